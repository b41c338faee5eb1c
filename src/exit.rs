//! Exit codes, grpcurl's scheme, decided in one place: 0 success, 1 a failure that is not a gRPC
//! status, 2 usage, 64 + N a call that ended with gRPC status N.

use std::fmt;
use std::process::ExitCode;

use tonic::Code;

/// A failure that is not a gRPC status: address in use, permission denied, I/O.
pub const FAILURE: u8 = 1;

/// A repeated run that missed a --max-p99, --max-error-rate or --min-rate threshold: exit 3,
/// which no other outcome has (1 failure, 2 usage, 64 + N a status).
pub const THRESHOLD_MISSED: u8 = 3;

/// Ctrl-C (SIGINT) stopped a repeated run: exit 130, as a shell reports a process SIGINT killed.
pub const INTERRUPTED: u8 = 128 + 2;

/// The thresholds a run missed, each with its margin.
#[derive(Debug)]
pub struct ThresholdsMissed(pub String);

impl fmt::Display for ThresholdsMissed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "threshold missed: {}", self.0)
    }
}

impl std::error::Error for ThresholdsMissed {}

/// A run stopped by Ctrl-C; its summary has been printed.
#[derive(Debug)]
pub struct Interrupted;

impl fmt::Display for Interrupted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("interrupted (SIGINT): the summary covers the calls that ended before it")
    }
}

impl std::error::Error for Interrupted {}

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
        // Cannot overflow or truncate: tonic's Code is 0 to 16, the spec's codes.
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

    /// Every status code of the gRPC spec (doc/statuscodes.md), its number and its name.
    const SPEC: [(i32, &str); 17] = [
        (0, "OK"),
        (1, "CANCELLED"),
        (2, "UNKNOWN"),
        (3, "INVALID_ARGUMENT"),
        (4, "DEADLINE_EXCEEDED"),
        (5, "NOT_FOUND"),
        (6, "ALREADY_EXISTS"),
        (7, "PERMISSION_DENIED"),
        (8, "RESOURCE_EXHAUSTED"),
        (9, "FAILED_PRECONDITION"),
        (10, "ABORTED"),
        (11, "OUT_OF_RANGE"),
        (12, "UNIMPLEMENTED"),
        (13, "INTERNAL"),
        (14, "UNAVAILABLE"),
        (15, "DATA_LOSS"),
        (16, "UNAUTHENTICATED"),
    ];

    #[test]
    fn code_names_follow_the_spec() {
        for (number, name) in SPEC {
            let code = Code::from_i32(number);
            assert_eq!(code as i32, number, "tonic's code for {number} ({name})");
            assert_eq!(code_name(code), name, "the name of code {number}");
        }
        // The exit code a user looks up is 64 + the number the name stands for.
        for (number, name) in SPEC {
            let exit = CallFailed::new(Code::from_i32(number), "").exit_code();
            assert_eq!(exit, ExitCode::from(64 + number as u8), "{name}");
        }
    }
}
