//! The address forms of `serve --addr` and `hello --addr`.
#![no_main]

// Command-line values are strings: bytes that are not UTF-8 never reach the parser.
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        greeter::fuzzing::addresses(text);
    }
});
