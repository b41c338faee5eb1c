//! Exit codes, grpcurl's scheme, decided in one place: 0 success, 1 a failure that is not a gRPC
//! status, 2 usage, 64 + N a call that ended with gRPC status N.

use std::fmt;
use std::process::ExitCode;

use tonic::Code;

/// A failure that is not a gRPC status: address in use, permission denied, I/O.
pub const FAILURE: u8 = 1;

/// A call that ended with a gRPC status. `message` is the whole line the user reads: the target,
/// the cause and what to do next.
#[derive(Debug)]
pub struct CallFailed {
    pub code: Code,
    pub message: String,
}

impl CallFailed {
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        CallFailed {
            code,
            message: message.into(),
        }
    }

    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(64 + self.code as u8)
    }
}

impl fmt::Display for CallFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CallFailed {}

/// The name the gRPC spec gives a status code, as grpcurl and every other implementation print it.
pub fn code_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "CANCELLED",
        Code::Unknown => "UNKNOWN",
        Code::InvalidArgument => "INVALID_ARGUMENT",
        Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        Code::NotFound => "NOT_FOUND",
        Code::AlreadyExists => "ALREADY_EXISTS",
        Code::PermissionDenied => "PERMISSION_DENIED",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::FailedPrecondition => "FAILED_PRECONDITION",
        Code::Aborted => "ABORTED",
        Code::OutOfRange => "OUT_OF_RANGE",
        Code::Unimplemented => "UNIMPLEMENTED",
        Code::Internal => "INTERNAL",
        Code::Unavailable => "UNAVAILABLE",
        Code::DataLoss => "DATA_LOSS",
        Code::Unauthenticated => "UNAUTHENTICATED",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_map_to_64_plus_their_number() {
        let exit = |code| CallFailed::new(code, "").exit_code();
        assert_eq!(exit(Code::DeadlineExceeded), ExitCode::from(68));
        assert_eq!(exit(Code::Unimplemented), ExitCode::from(76));
        assert_eq!(exit(Code::Unavailable), ExitCode::from(78));
        assert_eq!(exit(Code::Unauthenticated), ExitCode::from(80));
    }

    #[test]
    fn code_names_follow_the_spec() {
        for number in 0..=16 {
            let name = code_name(Code::from_i32(number));
            assert!(
                name.chars().all(|c| c.is_ascii_uppercase() || c == '_'),
                "{name}"
            );
        }
        assert_eq!(code_name(Code::DeadlineExceeded), "DEADLINE_EXCEEDED");
        assert_eq!(code_name(Code::Unavailable), "UNAVAILABLE");
    }
}
