//! The status translations both sides share. tonic names a message over a size limit
//! OUT_OF_RANGE; the gRPC spec (and grpc-go) says RESOURCE_EXHAUSTED, which is what scripts
//! check for (exit 72). The server rewrites its responses, the client what tonic tells it.

use tonic::Code;

/// What tonic's codec says of a message over the limit, either way.
const TOO_LARGE: &str = "message length too large";
/// The same as `grpc-message` carries it on the wire (percent-encoded).
const TOO_LARGE_ENCODED: &[u8] = b"message%20length%20too%20large";

/// tonic's status for a message over a size limit, as the client sees it.
pub fn is_oversize(code: Code, message: &str) -> bool {
    code == Code::OutOfRange && message.contains(TOO_LARGE)
}

/// The same status in a response's `grpc-status` and `grpc-message` headers. The message is
/// looked up only for OUT_OF_RANGE: this runs on every response.
pub fn is_oversize_on_the_wire<'a>(
    grpc_status: &[u8],
    grpc_message: impl FnOnce() -> Option<&'a [u8]>,
) -> bool {
    grpc_status == b"11"
        && grpc_message().is_some_and(|message| {
            message
                .windows(TOO_LARGE_ENCODED.len())
                .any(|window| window == TOO_LARGE_ENCODED)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_spellings_name_the_same_thing() {
        assert_eq!(TOO_LARGE.replace(' ', "%20").as_bytes(), TOO_LARGE_ENCODED);
        assert_eq!(Code::OutOfRange as i32, 11);
    }

    #[test]
    fn only_oversized_messages_are_recognised() {
        let tonic = "Error, decoded message length too large: found 17 bytes";
        assert!(is_oversize(Code::OutOfRange, tonic));
        assert!(!is_oversize(Code::OutOfRange, "index 3"));
        assert!(!is_oversize(Code::Internal, tonic));
        let wire = b"Error,%20decoded%20message%20length%20too%20large:%20found%205%20bytes";
        assert!(is_oversize_on_the_wire(b"11", || Some(&wire[..])));
        assert!(!is_oversize_on_the_wire(b"13", || Some(&wire[..])));
        assert!(!is_oversize_on_the_wire(b"11", || Some(
            &b"index%20out%20of%20range"[..]
        )));
        assert!(!is_oversize_on_the_wire(b"11", || None));
    }
}
