//! The command line: every flag, its environment variable and its help, in one place.
//!
//! These files are the single source of truth for parsing, `--help`, the man pages and the
//! shell completions: `build.rs` compiles them too (`#[path = "src/cli/mod.rs"]`), so they may
//! use only clap, std and humantime, never `crate::` items. Values that need the crate to check
//! them (addresses) are kept as strings here and checked by each side's `Config::from_args`.
//!
//! This file: the command, its subcommands, and what both share; `serve.rs` and `hello.rs`
//! hold each subcommand's flags.

mod hello;
mod load;
mod serve;

pub use hello::{Compression, HelloArgs, OutputFormat};
pub use load::Rate;
pub use serve::{LogFormat, ServeArgs};
// For `crate::fuzzing`, which drives every value parser of the flags.
pub(crate) use serve::parse_mode;

use std::time::Duration;

use clap::{Parser, Subcommand};

use hello::HELLO_EXAMPLES;
use serve::SERVE_EXAMPLES;

const EXIT_CODES: &str = "\
Exit codes (grpcurl's scheme):
  0     success (serve: clean shutdown after SIGINT or SIGTERM)
  1     a failure that is not a gRPC status (unreadable TLS or token file,
        address in use, I/O)
  2     usage error (bad flag, bad address, bad duration)
  3     hello: a --max-p99, --max-error-rate or --min-rate threshold failed
  64+N  the call ended with gRPC status N, for example:
          68  DEADLINE_EXCEEDED  no reply within --timeout
          76  UNIMPLEMENTED      the server lacks the method
          72  RESOURCE_EXHAUSTED a message over a size limit
          78  UNAVAILABLE        could not connect
          80  UNAUTHENTICATED    missing or wrong credentials
  130   hello: Ctrl-C (SIGINT) stopped a --count or --duration run (the
        summary and the report cover the calls made)
  130, 143  serve: a second SIGINT or SIGTERM ended the drain";

const TOP_EXAMPLES: &str = "\
Examples:
  Serve on port 50051 on every interface, IPv6 and IPv4:
    greeter serve --addr :50051

  Greet through it, waiting at most one second:
    greeter hello your_name --timeout 1s

  Script it: the reply as JSON, the failure as JSON on stderr and an exit code:
    greeter hello --addr localhost:50051 --output json your_name";

/// The gRPC helloworld Greeter: a server and a client, wire-compatible with the official
/// examples of every gRPC implementation.
#[derive(Debug, Parser)]
#[command(
    name = "greeter",
    version,
    about,
    long_about = "The gRPC helloworld Greeter: a server and a client, wire-compatible with the \
official examples of every gRPC implementation.\n\n\
`greeter serve` answers helloworld.Greeter/SayHello with \"Hello \" + name; `greeter hello` \
calls it, or any other implementation's greeter_server, prints the greeting and says in one \
line why it failed if it did. Every flag can also be set through a GREETER_* environment \
variable; a flag on the command line wins.",
    after_long_help = format!("{TOP_EXAMPLES}\n\n{EXIT_CODES}"),
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
// Each subcommand's flags are built only when it runs: `greeter hello` starts without building
// the flags of `serve` (a one-shot call pays for every microsecond of start-up).
#[command(defer = true)]
pub enum Command {
    /// Serve helloworld.Greeter until SIGINT or SIGTERM.
    #[command(
        long_about = "Serve helloworld.Greeter until SIGINT or SIGTERM.\n\n\
As soon as the server accepts connections it prints exactly one line to stdout, \
`listening on ADDR`, with the real bound address (useful with port 0), and flushes it. \
Everything else goes to stderr.\n\n\
The server runs one single-threaded runtime per worker (thread per core): one acceptor hands \
new connections to the workers in turn, and each connection stays on its worker. This avoids \
the cross-thread wake-ups that give a work-stealing runtime its long tail latency under many \
connections.\n\n\
For testing readiness gates and draining, SIGUSR1 turns the health service NOT_SERVING and \
SIGUSR2 back to SERVING, without stopping the server; Greeter calls are served either way.",
        after_long_help = format!("{SERVE_EXAMPLES}\n\n{EXIT_CODES}")
    )]
    Serve(ServeArgs),

    /// Call SayHello once and print the greeting.
    #[command(
        long_about = "Call helloworld.Greeter/SayHello once and print the greeting.\n\n\
Stdout carries the greeting alone (`Hello NAME`), or with --output json one JSON object per \
reply; nothing else. On failure one line on stderr names the target and the cause (a JSON \
object with --output json), and the exit code tells the gRPC status.",
        after_long_help = format!("{HELLO_EXAMPLES}\n\n{EXIT_CODES}")
    )]
    Hello(HelloArgs),
}

/// The longest duration any flag takes. humantime reads up to 584 billion years, and adding
/// that to a clock reading overflows (a panic, in std and in hyper's keepalive timers); 100
/// years is far beyond any real deadline or interval and well within every platform's clock.
pub(crate) const MAX_DURATION: Duration = Duration::from_secs(100 * 31_557_600);

/// A humantime duration that is not zero: a zero deadline could never be met.
pub(crate) fn parse_duration(text: &str) -> Result<Duration, String> {
    match parse_duration_or_zero(text)? {
        duration if duration.is_zero() => Err("the duration must be more than zero".into()),
        duration => Ok(duration),
    }
}

/// A humantime duration, zero included (where zero turns something off).
pub(crate) fn parse_duration_or_zero(text: &str) -> Result<Duration, String> {
    match humantime_without_its_panic(text) {
        Ok(duration) if duration > MAX_DURATION => {
            Err("the duration is too long: at most 100 years".into())
        }
        Ok(duration) => Ok(duration),
        Err(err) => Err(format!("{err} (examples: 500ms, 1s, 2m)")),
    }
}

/// `humantime::parse_duration` without its panic: a text past
/// `Duration::MAX` whose nanoseconds add up to exactly one second
/// (`18446744073709551615s 1000ms`) panics in `Duration::new` instead of being refused
/// (chronotope/humantime#66, open in 2.4.0). No term alone can do that, so the terms' sum is
/// checked first; once humantime is fixed, this is `humantime::parse_duration` again.
fn humantime_without_its_panic(text: &str) -> Result<Duration, humantime::DurationError> {
    let mut total = Duration::ZERO;
    for term in duration_terms(text) {
        // A term refused alone is refused in the whole text too, which says why.
        if let Ok(duration) = humantime::parse_duration(term) {
            total = total
                .checked_add(duration)
                .ok_or(humantime::DurationError::NumberOverflow)?;
        }
    }
    humantime::parse_duration(text)
}

/// `text` cut after each unit (a run of letters), which is where humantime's terms end.
fn duration_terms(text: &str) -> impl Iterator<Item = &str> {
    let is_unit = |c: char| c.is_ascii_alphabetic() || c == 'µ';
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let end = match rest.find(is_unit) {
            Some(unit) => rest[unit..]
                .find(|c| !is_unit(c))
                .map_or(rest.len(), |after| unit + after),
            None => rest.len(),
        };
        let (term, tail) = rest.split_at(end);
        rest = tail;
        Some(term)
    })
}

/// A size in bytes: a plain number, or with a binary suffix (`512KiB`, `4MiB`, `1GiB`).
pub(crate) fn parse_size(text: &str) -> Result<usize, String> {
    let trimmed = text.trim();
    let split = trimmed
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(trimmed.len());
    let (digits, unit) = trimmed.split_at(split);
    let shift = match unit.trim() {
        "" | "B" => 0,
        "KiB" => 10,
        "MiB" => 20,
        "GiB" => 30,
        other => {
            return Err(format!(
                "unknown unit '{other}': write bytes, or KiB, MiB or GiB (e.g. 4MiB)"
            ));
        }
    };
    let number: usize = digits
        .parse()
        .map_err(|_| "expected a number of bytes, e.g. 4194304 or 4MiB".to_owned())?;
    let size = number
        .checked_mul(1 << shift)
        .filter(|&size| size <= u32::MAX as usize)
        .ok_or_else(|| "too large: at most 4GiB".to_owned())?;
    if size == 0 {
        return Err("the size must be more than zero".into());
    }
    Ok(size)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_at_most_100_years() {
        assert_eq!(parse_duration("100y"), Ok(MAX_DURATION));
        assert_eq!(parse_duration_or_zero("0s"), Ok(Duration::ZERO));
        assert!(parse_duration("0s").is_err());
        // More than a clock reading can take added to it: the client's deadline panicked.
        for long in ["101y", "400000000000y"] {
            let err = parse_duration(long).unwrap_err();
            assert!(err.contains("at most 100 years"), "{long}: {err}");
            assert!(parse_duration_or_zero(long).is_err(), "{long}");
        }
    }

    #[test]
    fn a_duration_past_the_largest_is_refused_not_a_panic() {
        // Found by fuzz/ (flag_values): the nanoseconds add up to exactly one second on top
        // of u64::MAX seconds.
        for text in [
            "18446744073709551615s1000ms",
            "18446744073709551615s 999999999ns 1ns",
        ] {
            assert!(parse_duration(text).is_err(), "{text}");
            assert!(parse_duration_or_zero(text).is_err(), "{text}");
        }
    }

    #[test]
    fn durations_parse_as_humantime_parses_them() {
        for text in [
            "1h 30m", "1h30m", "1.5s", "1 000ms", " 2µs", "0s", "1x", "1h 5", "",
        ] {
            assert_eq!(
                humantime_without_its_panic(text),
                humantime::parse_duration(text),
                "{text:?}"
            );
        }
        assert_eq!(
            duration_terms("1h30m 1.5s 2µs x").collect::<Vec<_>>(),
            ["1h", "30m", " 1.5s", " 2µs", " x"]
        );
    }
}
