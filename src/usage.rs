//! A usage error: a flag value, or a mix of flags, that the command line cannot take, found
//! after clap's own parsing. It travels as an error like any other; `main` reports it as clap
//! reports its own (the message, the subcommand's usage) with exit 2.

use std::fmt;

use clap::CommandFactory;
use clap::error::ErrorKind;

use crate::cli::Cli;

#[derive(Debug)]
pub struct UsageError {
    /// The subcommand whose usage is shown: `serve` or `hello`.
    subcommand: &'static str,
    kind: ErrorKind,
    message: String,
}

impl UsageError {
    /// A value no flag may have (clap's "invalid value").
    pub fn invalid(subcommand: &'static str, message: impl Into<String>) -> Self {
        UsageError {
            subcommand,
            kind: ErrorKind::ValueValidation,
            message: message.into(),
        }
    }

    /// Flags that cannot go together.
    pub fn conflict(subcommand: &'static str, message: impl Into<String>) -> Self {
        UsageError {
            subcommand,
            kind: ErrorKind::ArgumentConflict,
            message: message.into(),
        }
    }

    /// `invalid value 'TEXT' for '--addr <ADDR>': ERR`, as clap words a bad value itself.
    pub fn bad_value(
        subcommand: &'static str,
        flag: &str,
        text: &str,
        err: impl fmt::Display,
    ) -> Self {
        UsageError::invalid(
            subcommand,
            format!("invalid value '{text}' for '{flag}': {err}"),
        )
    }

    /// Prints the error in clap's format, with the subcommand's usage, and exits with 2.
    pub fn exit(&self) -> ! {
        let mut command = Cli::command();
        command.build();
        let subcommand = command
            .find_subcommand_mut(self.subcommand)
            .expect("a UsageError names serve or hello, both subcommands of Cli");
        subcommand.error(self.kind, &self.message).exit()
    }
}

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for UsageError {}
