# shellcheck shell=bash
# Shared by the bench scripts (sourced, not run).

# Installs the Debian packages named. Callers name only what is missing, so a second run
# installs nothing; the package lists of a fresh machine may be empty or old, so update first.
install_packages() {
    [ $# -gt 0 ] || return 0
    echo "bench: installing $*" >&2
    apt-get update -qq && apt-get install -y -qq "$@" >/dev/null
}
