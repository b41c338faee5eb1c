//! What `hello` needs, made once from its flags: addresses parsed, headers and the token read,
//! TLS decided per target. A bad value or mix comes back as a `UsageError` (exit 2).

use std::time::Duration;

use clap::ArgMatches;
use clap::parser::ValueSource;
use color_eyre::eyre::{Result, eyre};

use super::call::Method;
use super::grpc_client::Messages;
use super::headers::{HeaderError, Headers};
use super::patience::Patience;
use super::repeat::Repeat;
use super::run_report;
use super::thresholds::Thresholds;
use super::tls::TlsOptions;
use super::transport::{TransportOptions, check_server_name};
use crate::address::{Target, Targets};
use crate::cli::{HelloArgs, OutputFormat};
use crate::usage::UsageError;

pub struct Config {
    pub targets: Targets,
    pub name: String,
    pub timeout: Duration,
    pub output: OutputFormat,
    pub method: Method,
    pub patience: Patience,
    pub headers: Headers,
    pub repeat: Repeat,
    pub transport: TransportOptions,
    pub messages: Messages,
}

/// The percentiles a summary shows unless --percentiles says otherwise.
const PERCENTILES: [f64; 5] = [50.0, 90.0, 99.0, 99.9, 99.99];

/// --count, --duration and what goes with them; a rate or threshold needs one of the two.
fn repeat(args: &HelloArgs) -> Result<Repeat, UsageError> {
    let repeated = args.count.is_some() || args.duration.is_some();
    if let Some(rate) = args.rate {
        if !repeated {
            return Err(UsageError::conflict(
                "hello",
                "--rate needs --count or --duration: how many calls to make at that rate, or \
                 for how long",
            ));
        }
        if rate.from != rate.to && args.duration.is_none() {
            return Err(UsageError::conflict(
                "hello",
                "a ramp (--rate FROM..TO) needs --duration: the time it ramps over",
            ));
        }
    }
    let thresholds = Thresholds {
        max_p99: args.max_p99,
        max_error_rate: args.max_error_rate,
        min_rate: args.min_rate,
    };
    if thresholds.any() && !repeated {
        return Err(UsageError::conflict(
            "hello",
            "--max-p99, --max-error-rate and --min-rate judge a run: give --count or --duration",
        ));
    }
    let mut percentiles = if args.percentiles.is_empty() {
        PERCENTILES.to_vec()
    } else {
        args.percentiles.clone()
    };
    percentiles.sort_by(f64::total_cmp);
    percentiles.dedup();
    Ok(Repeat {
        count: args.count.or(args.duration.is_none().then_some(1)),
        duration: args.duration,
        concurrency: args.concurrency.get(),
        connections: args.connections.get(),
        quiet: args.quiet,
        rate: args.rate,
        latency_correction: !args.no_latency_correction,
        percentiles,
        thresholds,
        report: args.report.clone(),
    })
}

impl Config {
    /// `matches` tells a NAME given as `--name` from one given as the argument.
    pub fn from_args(args: HelloArgs, matches: &ArgMatches) -> Result<Config> {
        check_name_given_once(&args, matches)?;
        let mut headers = Headers::parse(&args.headers, |name| std::env::var(name).ok()).map_err(
            |err| match err {
                HeaderError::Usage(message) => {
                    invalid(format!("invalid value for '--header <HEADER>': {message}"))
                }
                unreadable => unreadable.into(),
            },
        )?;
        let sends_token = authorize(&mut headers, &args)?;
        // Each of these flags means TLS, for every target.
        let tls_everywhere = args.tls
            || args.ca_cert.is_some()
            || args.cert.is_some()
            || args.server_name.is_some()
            || args.insecure_skip_verify;
        if let Some(name) = &args.server_name {
            check_server_name(name)
                .map_err(|err| UsageError::bad_value("hello", "--server-name <NAME>", name, err))?;
        }
        let targets = targets(&args.addr, tls_everywhere && !args.tls)?;
        if sends_token
            && let Some(exposed) = targets
                .iter()
                .find(|target| !tls_everywhere && target.plaintext_off_host())
        {
            eprintln!(
                "warning: the token goes in plaintext to {exposed}: anyone on the way can read \
                 it; use https:// or --tls"
            );
        }
        let repeat = repeat(&args)?;
        check_report(&repeat)?;
        Ok(Config {
            headers,
            repeat,
            method: method(&args),
            targets: Targets(targets),
            timeout: args.timeout,
            output: args.output,
            patience: Patience {
                wait_for_ready: args.wait_for_ready,
                connect_timeout: args.connect_timeout,
                retries: args.retries,
                retry_backoff: args.retry_backoff,
                verbose: args.verbose,
            },
            messages: Messages {
                compress: args.compress,
                max_recv: args.max_recv_msg_size,
                max_send: args.max_send_msg_size,
            },
            transport: transport_options(&args, tls_everywhere),
            name: args
                .name
                .or(args.name_flag)
                .unwrap_or_else(|| "world".into()),
        })
    }
}

/// `--report`: a name it can write (a usage error if not), for a run of calls (not one call),
/// and a file that can be written: checked now, before anything connects, so that a run
/// never ends without the report it was asked for. A path that cannot be written is exit 1
/// naming it, as an unreadable token file is.
fn check_report(repeat: &Repeat) -> Result<()> {
    let Some(path) = &repeat.report else {
        return Ok(());
    };
    if run_report::Format::of(path).is_none() {
        return Err(UsageError::bad_value(
            "hello",
            "--report <FILE>",
            &path.display().to_string(),
            run_report::WHICH_FORMATS,
        )
        .into());
    }
    if repeat.is_single() {
        return Err(conflict(
            "--report is the report of a run of calls: add --count N (more than 1) or \
             --duration",
        ));
    }
    run_report::check_writable(path).map_err(|message| eyre!(message))
}

fn method(args: &HelloArgs) -> Method {
    match (args.stream, args.bidi) {
        (_, true) => Method::Bidi,
        (true, false) => Method::ServerStream,
        (false, false) => Method::Unary,
    }
}

/// NAME is the argument or `--name` (or `GREETER_NAME`), not both on the command line.
fn check_name_given_once(args: &HelloArgs, matches: &ArgMatches) -> Result<()> {
    let given_as_flag = matches
        .subcommand_matches("hello")
        .and_then(|hello| hello.value_source("name_flag"))
        == Some(ValueSource::CommandLine);
    if args.name.is_some() && given_as_flag {
        return Err(conflict(
            "NAME is given twice, as an argument and as --name: give one",
        ));
    }
    Ok(())
}

fn transport_options(args: &HelloArgs, tls_everywhere: bool) -> TransportOptions {
    TransportOptions {
        tls_everywhere,
        tls: TlsOptions {
            ca_cert: args.ca_cert.clone(),
            cert: args.cert.clone(),
            key: args.key.clone(),
            insecure_skip_verify: args.insecure_skip_verify,
        },
        server_name: args.server_name.clone(),
        keepalive_interval: args.keepalive_interval,
        keepalive_timeout: args.keepalive_timeout,
        reconnect_backoff: args.retry_backoff,
        connect_timeout: args.connect_timeout,
    }
}

/// Adds the bearer token (`--token-file` wins over `GREETER_TOKEN`) to `headers`; whether
/// there was one.
fn authorize(headers: &mut Headers, args: &HelloArgs) -> Result<bool> {
    let source = crate::secret::Sources {
        subcommand: "hello",
        file: args
            .token_file
            .as_deref()
            .map(|path| ("--token-file", path)),
        env: ("GREETER_TOKEN", std::env::var("GREETER_TOKEN").ok()),
    };
    let Some(token) = source.read()? else {
        return Ok(false);
    };
    if headers.contains("authorization") {
        return Err(conflict(
            "the authorization header is given twice, by -H 'authorization: ...' and by \
             --token-file or GREETER_TOKEN: give one",
        ));
    }
    headers.authorize(super::token::bearer(
        &token,
        "--token-file or GREETER_TOKEN",
    )?);
    Ok(true)
}

/// Every `--addr`, parsed. `implied_tls` says a flag implied TLS without `--tls`.
fn targets(addrs: &[String], implied_tls: bool) -> Result<Vec<Target>> {
    let targets = addrs
        .iter()
        .map(|text| {
            text.parse::<Target>()
                .map_err(|err| UsageError::bad_value("hello", "--addr <ADDR>", text, err))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let unix = targets.iter().any(|t| matches!(t, Target::Unix(_)));
    // TLS over a Unix socket is unusual enough to be asked for by name: a flag that only
    // implies TLS is more likely a GREETER_* variable meant for TCP targets.
    if implied_tls && unix {
        return Err(conflict(
            "TLS over a Unix socket needs --tls: add it, or drop --ca-cert, --cert, \
             --server-name and --insecure-skip-verify",
        ));
    }
    if targets.len() > 1 && unix {
        return Err(invalid(
            "invalid value for '--addr <ADDR>': a Unix socket cannot be one of several \
             replicas; give it alone",
        ));
    }
    Ok(targets)
}

fn invalid(message: impl Into<String>) -> color_eyre::Report {
    UsageError::invalid("hello", message).into()
}

fn conflict(message: impl Into<String>) -> color_eyre::Report {
    UsageError::conflict("hello", message).into()
}
