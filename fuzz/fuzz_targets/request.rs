//! One call through the server's services over an in-process HTTP/2 connection: the path,
//! token, headers and raw body come from the input (see `src/fuzzing/request.rs`).
#![no_main]

libfuzzer_sys::fuzz_target!(|input: &[u8]| greeter::fuzzing::request(input));
