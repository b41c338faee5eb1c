//! `greeter`: the gRPC helloworld Greeter, server and client.

mod address;
mod cli;
mod client;
mod exit;
mod handshake_signatures;
mod logging;
mod pem;
mod pinned;
mod report;
mod server;

use std::process::ExitCode;
use std::str::FromStr;

use clap::parser::ValueSource;
use clap::{ArgMatches, CommandFactory, FromArgMatches};
use color_eyre::eyre::Result;

use cli::{Cli, Command, OutputFormat};

/// The code build.rs generates from `proto/`.
mod proto {
    #![allow(clippy::all, clippy::pedantic)]
    tonic::include_proto!("helloworld");

    pub mod health {
        tonic::include_proto!("grpc.health.v1");
    }

    /// Every file in `proto/`, encoded, for server reflection.
    pub const DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("descriptor_set");
}

fn main() -> ExitCode {
    let matches = Cli::command().get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|err| err.exit());
    report::install_hook();
    let json = matches!(&cli.command, Command::Hello(args) if args.output == OutputFormat::Json);
    match run(cli, &matches) {
        Ok(()) => ExitCode::SUCCESS,
        Err(report) => report::failure(&report, json),
    }
}

fn run(cli: Cli, matches: &ArgMatches) -> Result<()> {
    match cli.command {
        Command::Serve(args) => {
            let addr = parse_addr("serve", &args.addr);
            let metrics_addr = args.metrics_addr.as_deref().map(|text| {
                let addr: address::ListenAddr = parse_addr("serve", text);
                if matches!(addr, address::ListenAddr::Unix(_)) {
                    usage_error(
                        "serve",
                        clap::error::ErrorKind::ValueValidation,
                        &format!(
                            "invalid value '{text}' for '--metrics-addr <ADDR>': metrics are \
                             served over TCP: use HOST:PORT or :PORT"
                        ),
                    );
                }
                addr
            });
            if let Err(err) =
                logging::init(args.log_format, args.log_level.as_deref(), args.access_log)
            {
                usage_error(
                    "serve",
                    clap::error::ErrorKind::ValueValidation,
                    &format!("{err:#}: see --log-level in --help"),
                );
            }
            let auth = server::BearerAuth::from_sources(
                args.auth_token_file.as_deref(),
                std::env::var("GREETER_AUTH_TOKEN").ok(),
            )?;
            if args.unix_mode.is_some() && !matches!(addr, address::ListenAddr::Unix(_)) {
                usage_error(
                    "serve",
                    clap::error::ErrorKind::ArgumentConflict,
                    "--unix-mode applies to a Unix socket: use it with --addr unix:PATH",
                );
            }
            server::run(server::Config {
                unix_mode: args.unix_mode,
                tls: args
                    .tls_cert
                    .zip(args.tls_key)
                    .map(|(cert, key)| server::TlsFiles {
                        cert,
                        key,
                        client_ca: args.tls_client_ca,
                    }),
                auth,
                limits: server::MessageLimits {
                    max_recv: args.max_recv_msg_size,
                    max_send: args.max_send_msg_size,
                },
                lifecycle: server::Lifecycle {
                    keepalive_interval: Some(args.keepalive_interval)
                        .filter(|interval| !interval.is_zero()),
                    keepalive_timeout: args.keepalive_timeout,
                    max_concurrent_streams: args.max_concurrent_streams,
                    max_idle: args.max_connection_idle,
                    max_age: args.max_connection_age,
                    age_grace: args.max_connection_age_grace,
                },
                addr,
                workers: args.workers,
                grace_period: args.grace_period,
                reflection: !args.no_reflection,
                stream_count: args.stream_count,
                stream_interval: args.stream_interval,
                metrics_addr,
            })
        }
        Command::Hello(args) => {
            let given_as_flag = matches
                .subcommand_matches("hello")
                .and_then(|hello| hello.value_source("name_flag"))
                == Some(ValueSource::CommandLine);
            if args.name.is_some() && given_as_flag {
                usage_error(
                    "hello",
                    clap::error::ErrorKind::ArgumentConflict,
                    "NAME is given twice, as an argument and as --name: give one",
                );
            }
            let mut headers =
                match client::Headers::parse(&args.headers, |name| std::env::var(name).ok()) {
                    Ok(headers) => headers,
                    Err(client::HeaderError::Usage(message)) => usage_error(
                        "hello",
                        clap::error::ErrorKind::ValueValidation,
                        &format!("invalid value for '--header <HEADER>': {message}"),
                    ),
                    Err(unreadable) => return Err(unreadable.into()),
                };
            // The flag (or GREETER_TOKEN_FILE) wins over GREETER_TOKEN, the token itself.
            let token = args.token_file.as_deref();
            let mut sends_token = false;
            match client::bearer(token, std::env::var("GREETER_TOKEN").ok()) {
                Ok(None) => {}
                Ok(Some(_)) if headers.contains("authorization") => usage_error(
                    "hello",
                    clap::error::ErrorKind::ArgumentConflict,
                    "the authorization header is given twice, by -H 'authorization: ...' and by \
                     --token-file or GREETER_TOKEN: give one",
                ),
                Ok(Some(bearer)) => {
                    sends_token = true;
                    headers.authorize(bearer);
                }
                Err(client::HeaderError::Usage(message)) => {
                    usage_error("hello", clap::error::ErrorKind::ValueValidation, &message)
                }
                Err(unreadable) => return Err(unreadable.into()),
            }
            // Each of these flags means TLS, for every target.
            let tls_everywhere = args.tls
                || args.ca_cert.is_some()
                || args.cert.is_some()
                || args.server_name.is_some()
                || args.insecure_skip_verify;
            if let Some(name) = &args.server_name
                && let Err(message) = client::check_server_name(name)
            {
                usage_error(
                    "hello",
                    clap::error::ErrorKind::ValueValidation,
                    &format!("invalid value '{name}' for '--server-name <NAME>': {message}"),
                );
            }
            let targets: Vec<address::Target> = args
                .addr
                .iter()
                .map(|addr| parse_addr("hello", addr))
                .collect();
            // TLS over a Unix socket is unusual enough to be asked for by name: a flag that
            // only implies TLS is more likely a GREETER_* variable meant for TCP targets.
            if tls_everywhere
                && !args.tls
                && targets
                    .iter()
                    .any(|t| matches!(t, address::Target::Unix(_)))
            {
                usage_error(
                    "hello",
                    clap::error::ErrorKind::ArgumentConflict,
                    "TLS over a Unix socket needs --tls: add it, or drop --ca-cert, --cert, \
                     --server-name and --insecure-skip-verify",
                );
            }
            if sends_token
                && let Some(exposed) = targets
                    .iter()
                    .find(|target| !tls_everywhere && target.plaintext_off_host())
            {
                eprintln!(
                    "warning: the token goes in plaintext to {exposed}: anyone on the way can \
                     read it; use https:// or --tls"
                );
            }
            if targets.len() > 1
                && targets
                    .iter()
                    .any(|t| matches!(t, address::Target::Unix(_)))
            {
                usage_error(
                    "hello",
                    clap::error::ErrorKind::ValueValidation,
                    "invalid value for '--addr <ADDR>': a Unix socket cannot be one of several \
                     replicas; give it alone",
                );
            }
            client::run(client::Config {
                headers,
                repeat: client::Repeat {
                    count: args.count.or(args.duration.is_none().then_some(1)),
                    duration: args.duration,
                    concurrency: args.concurrency.get(),
                    quiet: args.quiet,
                },
                targets: address::Targets(targets),
                name: args
                    .name
                    .or(args.name_flag)
                    .unwrap_or_else(|| "world".into()),
                timeout: args.timeout,
                output: args.output,
                patience: client::Patience {
                    wait_for_ready: args.wait_for_ready,
                    connect_timeout: args.connect_timeout,
                    retries: args.retries,
                    retry_backoff: args.retry_backoff,
                    verbose: args.verbose,
                },
                method: match (args.stream, args.bidi) {
                    (_, true) => client::Method::Bidi,
                    (true, false) => client::Method::ServerStream,
                    (false, false) => client::Method::Unary,
                },
                transport: client::TransportOptions {
                    tls_everywhere,
                    tls: client::TlsOptions {
                        ca_cert: args.ca_cert,
                        cert: args.cert,
                        key: args.key,
                        insecure_skip_verify: args.insecure_skip_verify,
                    },
                    server_name: args.server_name,
                    keepalive_interval: args.keepalive_interval,
                    keepalive_timeout: args.keepalive_timeout,
                },
                messages: client::Messages {
                    compress: args.compress,
                    max_recv: args.max_recv_msg_size,
                    max_send: args.max_send_msg_size,
                },
            })
        }
    }
}

/// Parses `--addr` for `subcommand`, or exits with status 2 and clap's usage message: a bad
/// address is a usage error like any other bad flag value.
fn parse_addr<A: FromStr<Err = address::AddrError>>(subcommand: &str, text: &str) -> A {
    text.parse().unwrap_or_else(|err| {
        usage_error(
            subcommand,
            clap::error::ErrorKind::ValueValidation,
            &format!("invalid value '{text}' for '--addr <ADDR>': {err}"),
        )
    })
}

fn usage_error(subcommand: &str, kind: clap::error::ErrorKind, message: &str) -> ! {
    let mut command = Cli::command();
    command.build();
    let subcommand = command
        .find_subcommand_mut(subcommand)
        .expect("the subcommand exists");
    subcommand.error(kind, message).exit()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
