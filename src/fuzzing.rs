//! What `fuzz/` drives: the parsers of the command line's values, each as the binary uses it,
//! and the server's request path. Not an API: only the fuzz targets call these.

mod request;

/// Parses `text` as `serve --addr` and as `hello --addr` read it.
pub fn addresses(text: &str) {
    let _ = text.parse::<crate::address::ListenAddr>();
    let _ = text.parse::<crate::address::Target>();
}

/// Parses `text` as one `hello -H` argument, in an environment where every variable but
/// `UNSET` is set, to its own name (so `${VAR}` expands to anything the input holds).
///
/// An `@FILE` argument is left out, as it reads a file; each line of one goes through the
/// same parse as an argument.
pub fn header(text: &str) {
    if text.starts_with('@') {
        return;
    }
    let environment = |name: &str| (name != "UNSET").then(|| name.to_owned());
    let _ = crate::client::Headers::parse(&[text.to_owned()], environment);
}

/// Parses `text` with every value parser the flags use: sizes, durations (those that may be
/// zero and those that may not) and `--unix-mode`.
pub fn flag_values(text: &str) {
    let _ = crate::cli::parse_size(text);
    let _ = crate::cli::parse_duration(text);
    let _ = crate::cli::parse_duration_or_zero(text);
    let _ = crate::cli::parse_mode(text);
}

/// Makes one call described by `input` to the server's services over an in-process HTTP/2
/// connection, reads the answer to its end and waits for the connection to close. The input's
/// layout is in `request.rs`.
///
/// Panics if the server panics, or if the call and its connection outlast a few seconds. A
/// panic in a task the server spawns for a call, or one its executor catches, is not seen
/// here; under `fuzz/`, libFuzzer's panic hook aborts on it.
pub fn request(input: &[u8]) {
    request::call(input);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_entry_point_takes_valid_and_invalid_input() {
        for text in [
            "",
            ":50051",
            "[::1]:0",
            "unix:/tmp/g.sock",
            "dns:///x:1",
            "[",
            "\u{0}",
        ] {
            addresses(text);
        }
        for text in [
            "x-a: b",
            "x-a: ${TOKEN}",
            "x-a: ${UNSET}",
            "x: ${",
            "@/etc/passwd",
            ":",
        ] {
            header(text);
        }
        for text in [
            "4MiB",
            "0",
            "18446744073709551616",
            "1s",
            "0s",
            "0660",
            "9",
            " KiB",
        ] {
            flag_values(text);
        }
        for input in [
            &b""[..],
            &[0, 0],
            &[1, 0xff, 1, 2, 3],
            &[0, 0, 0, 0, 0, 0, 0],
        ] {
            request(input);
        }
    }
}
