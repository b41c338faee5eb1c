//! Server logs: tracing to stderr, as text or one JSON object per line. Stdout is kept for the
//! readiness line alone.

use std::io::IsTerminal;

use color_eyre::eyre::{Result, WrapErr};
use tracing_subscriber::EnvFilter;

use crate::cli::LogFormat;

/// Where access log lines go; `--access-log` turns this target on.
pub const ACCESS_TARGET: &str = "greeter::access";

/// Installs the global subscriber. `level` is an `EnvFilter` directive (`info`,
/// `greeter=debug,h2=warn`); without one, `RUST_LOG` is used, then `info`.
pub fn init(format: LogFormat, level: Option<&str>, access_log: bool) -> Result<()> {
    let directives = match level {
        Some(level) => level.to_owned(),
        None => std::env::var("RUST_LOG").unwrap_or_else(|_| "info".to_owned()),
    };
    let access = if access_log { "info" } else { "off" };
    let filter = EnvFilter::builder()
        .parse(format!("{directives},{ACCESS_TARGET}={access}"))
        .wrap_err_with(|| format!("invalid log level '{directives}'"))?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    // init() panics if a subscriber is already installed: this runs once, from serve's
    // Config::from_args, before anything else logs.
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .init(),
    }
    Ok(())
}
