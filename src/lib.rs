//! `greeter`: the gRPC helloworld Greeter, server and client. The binary is [`main`]; the
//! modules stay private but for [`fuzzing`], the entry points of `fuzz/`.

mod address;
mod cli;
mod client;
mod exit;
pub mod fuzzing;
mod logging;
mod proto;
mod report;
mod runtime;
mod secret;
mod server;
mod status;
mod tls;
mod usage;

use std::process::ExitCode;

use clap::{ArgMatches, CommandFactory, FromArgMatches};
use color_eyre::eyre::Result;

use cli::{Cli, Command, OutputFormat};
use usage::UsageError;

/// Parses the command line, runs the subcommand, and maps the outcome to the exit code.
pub fn main() -> ExitCode {
    let matches = Cli::command().get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|err| err.exit());
    report::install_hook();
    let json = matches!(&cli.command, Command::Hello(args) if args.output == OutputFormat::Json);
    match run(cli, &matches) {
        Ok(()) => ExitCode::SUCCESS,
        Err(report) => match report.downcast_ref::<UsageError>() {
            Some(usage) => usage.exit(),
            None => report::failure(&report, json),
        },
    }
}

fn run(cli: Cli, matches: &ArgMatches) -> Result<()> {
    match cli.command {
        Command::Serve(args) => server::run(server::Config::from_args(args)?),
        Command::Hello(args) => client::run(client::Config::from_args(args, matches)?),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
