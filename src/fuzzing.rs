//! What `fuzz/` drives: the parsers of the command line's values, each as the binary uses it.
//! Not an API: only the fuzz targets call these.

/// Parses `text` as `serve --addr` and as `hello --addr` read it.
pub fn addresses(text: &str) {
    let _ = text.parse::<crate::address::ListenAddr>();
    let _ = text.parse::<crate::address::Target>();
}
