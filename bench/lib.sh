# shellcheck shell=bash
# Shared by the bench scripts (sourced, not run).

# Installs the Debian packages named. Callers name only what is missing, so a second run
# installs nothing; the package lists of a fresh machine may be empty or old, so update first.
install_packages() {
    [ $# -gt 0 ] || return 0
    echo "bench: installing $*" >&2
    apt-get update -qq && apt-get install -y -qq "$@" >/dev/null
}

# The processes a script started (it appends their pids), and how they are stopped when it
# exits: each with SIGTERM, then SIGKILL if it is still there 5 s later, the last started first.
pids=()
stop() { # pid
    kill "$1" 2>/dev/null || return 0
    for _ in $(seq 50); do
        kill -0 "$1" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}
stop_all() {
    local i
    for ((i = ${#pids[@]} - 1; i >= 0; i--)); do stop "${pids[i]}"; done
}
