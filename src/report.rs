//! How failures reach the user: one line on stderr (a JSON object with `--output json`), the
//! panic report hook, and plain words for the OS errors people meet most.

use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;

use color_eyre::config::{HookBuilder, Theme};
use color_eyre::eyre::Report;

use crate::exit::{self, CallFailed};

/// color-eyre's panic report, without colour codes when stderr is not a terminal, and without
/// the section about environment variables, which only confuses users of a command-line tool.
///
/// Errors keep eyre's default handler: they are printed on one line by [`failure`], never with
/// a backtrace, and color-eyre's handler would resolve one for every error whenever
/// RUST_BACKTRACE is set (0.7 s for a refused connection).
pub fn install_hook() {
    let theme = if io::stderr().is_terminal() {
        Theme::dark()
    } else {
        Theme::new()
    };
    let (panic_hook, _error_hook) = HookBuilder::default()
        .display_env_section(false)
        .theme(theme)
        .into_hooks();
    panic_hook.install();
}

/// Prints `report` as the user should see it and returns the exit code it stands for.
pub fn failure(report: &Report, json: bool) -> ExitCode {
    let call = report.chain().find_map(|e| e.downcast_ref::<CallFailed>());
    let mut stderr = io::stderr().lock();
    let _ = match call {
        Some(call) if json => writeln!(
            stderr,
            "{}",
            serde_json::json!({
                "code": exit::code_name(call.code),
                "code_number": call.code as i32,
                "message": report_line(report),
            })
        ),
        _ => writeln!(stderr, "error: {}", report_line(report)),
    };
    match call {
        Some(call) => call.exit_code(),
        None if report.downcast_ref::<exit::ThresholdsMissed>().is_some() => {
            ExitCode::from(exit::THRESHOLD_MISSED)
        }
        None if report.downcast_ref::<exit::Interrupted>().is_some() => {
            ExitCode::from(exit::INTERRUPTED)
        }
        None => ExitCode::from(exit::FAILURE),
    }
}

/// The report's causes joined on one line, outermost first.
fn report_line(report: &Report) -> String {
    format!("{report:#}")
}

/// An OS error in the words people use ("connection refused"), without the "(os error 111)"
/// that std appends.
pub fn describe_io(err: &io::Error) -> String {
    use io::ErrorKind::*;
    let text = match err.kind() {
        ConnectionRefused => "connection refused",
        ConnectionReset => "connection reset",
        AddrInUse => "address already in use",
        AddrNotAvailable => "address not available on this host",
        PermissionDenied => "permission denied",
        NotFound => "no such file or directory",
        TimedOut => "timed out",
        HostUnreachable => "host unreachable",
        NetworkUnreachable => "network unreachable",
        _ => return strip_os_error(&err.to_string()),
    };
    text.to_owned()
}

fn strip_os_error(text: &str) -> String {
    match text.rsplit_once(" (os error ") {
        Some((words, number)) if number.ends_with(')') => words.to_owned(),
        _ => text.to_owned(),
    }
}

/// Writes one line to stdout. A closed pipe (`greeter hello | head -0`) is not an error: the
/// reader has what it wanted.
pub fn print_line(line: &str) -> io::Result<()> {
    let mut stdout = io::stdout().lock();
    match writeln!(stdout, "{line}").and_then(|()| stdout.flush()) {
        Err(err) if err.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        result => result,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_errors_read_plainly() {
        let refused = io::Error::from_raw_os_error(111);
        assert_eq!(describe_io(&refused), "connection refused");
        let other = io::Error::from_raw_os_error(24);
        assert_eq!(describe_io(&other), "Too many open files");
        let custom = io::Error::other("failed to lookup address information");
        assert_eq!(describe_io(&custom), "failed to lookup address information");
    }
}
