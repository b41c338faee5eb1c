//! `greeter serve`: bind, announce readiness, serve on every worker, drain on a signal.

mod admission;
mod auth;
mod client_cert;
mod config;
mod conformance;
mod connection;
mod content_type;
mod echo;
mod executor;
mod faults;
mod greeter;
mod health;
mod health_switch;
// For `crate::fuzzing`: one connection served in process.
pub(crate) mod in_process;
mod listener;
mod metered_io;
mod metrics;
mod observe;
mod opening;
mod preface;
mod request_timeout;
mod routes;
mod services;
mod shutdown;
mod tls;
mod workers;

pub use config::Config;

use std::io::Write;
use std::num::NonZeroUsize;
use std::time::Duration;

use color_eyre::eyre::{Result, WrapErr};
use tokio::sync::watch;

use admission::Admission;
use greeter::Greeter;
use health::HealthState;
use health_switch::HealthSwitch;
use listener::Bound;
use services::Services;
use shutdown::Signals;
use workers::{Accept, Pool};

pub fn run(config: Config) -> Result<()> {
    admission::raise_descriptor_limit();
    // Read every file before binding: a typo in a path must not leave a socket behind.
    let tls = config.tls.as_ref().map(tls::acceptor).transpose()?;
    let metrics_listener = config
        .metrics_addr
        .as_ref()
        .map(listener::bind_metrics)
        .transpose()?;
    let bound = listener::bind(&config.addr, config.unix_mode)?;
    if config.auth.required() && tls.is_none() && config.addr.is_exposed() {
        tracing::warn!(
            "the auth token travels in plaintext on {}: anyone on the way can read and reuse \
             it; serve TLS (--tls-cert, --tls-key), or listen on loopback or a Unix socket",
            config.addr
        );
    }
    let workers = config
        .workers
        .or_else(|| std::thread::available_parallelism().ok())
        .map_or(1, NonZeroUsize::get);
    let health_switch = HealthSwitch::new();
    let services = Services {
        greeter: Greeter {
            stream_count: config.stream_count,
            stream_interval: config.stream_interval,
        },
        reflection: config.reflection,
        auth: config.auth,
        limits: config.limits,
        lifecycle: config.lifecycle,
        tls,
        replica: config.replica,
        faults: config.faults,
        echo: config.echo,
        health_turned_off: health_switch.subscribe(),
    };
    let plan = Plan {
        workers,
        services,
        grace_period: config.grace_period,
        metrics_listener,
        max_connections: config.max_connections,
        health_switch,
    };
    let runtime = crate::runtime::single_threaded()?;
    runtime.block_on(async move {
        let signals = Signals::install().wrap_err("could not install the signal handlers")?;
        let health_signals = plan
            .health_switch
            .follow_signals()
            .wrap_err("could not install the SIGUSR1 and SIGUSR2 handlers")?;
        tokio::spawn(health_signals);
        match bound {
            Bound::Tcp(listener) => {
                let listener = tokio::net::TcpListener::from_std(listener)?;
                let local = listener.local_addr()?.to_string();
                plan.serve(listener, &local, signals).await
            }
            Bound::Unix(listener, socket_file) => {
                let local = format!("unix:{}", socket_file.path().display());
                let listener = tokio::net::UnixListener::from_std(listener)?;
                let served = plan.serve(listener, &local, signals).await;
                drop(socket_file);
                served
            }
        }
    })
}

/// How to serve, whatever the listener.
struct Plan {
    workers: usize,
    services: Services,
    grace_period: Duration,
    metrics_listener: Option<std::net::TcpListener>,
    max_connections: usize,
    health_switch: HealthSwitch,
}

impl Plan {
    async fn serve<L: Accept>(self, listener: L, local: &str, signals: Signals) -> Result<()> {
        let Plan {
            workers,
            services,
            grace_period,
            metrics_listener,
            max_connections,
            health_switch,
        } = self;
        let (shutdown_tx, shutdown) = watch::channel(false);
        let metrics = metrics_listener.as_ref().map(|_| metrics::new(workers));
        let admission = Admission::new(
            max_connections,
            metrics.as_ref().map(|m| m.connections_refused.clone()),
            services.tls.is_none(),
        );
        let health = HealthState {
            shutdown: shutdown.clone(),
            turned_off: health_switch.subscribe(),
        };
        let (registry, worker_metrics) = match metrics {
            Some(metrics) => {
                let gauge = metrics.health_serving;
                tokio::spawn(health.clone().follow(move |serving| {
                    gauge.set(i64::from(serving));
                }));
                (Some(metrics.registry), Some(metrics.workers))
            }
            None => (None, None),
        };
        let (pool, first_share) =
            Pool::start(workers, &services, worker_metrics.as_deref(), &shutdown)?;
        let exporting = async {
            match (metrics_listener, registry) {
                (Some(listener), Some(registry)) => {
                    tracing::info!("metrics on http://{}/metrics", listener.local_addr()?);
                    let endpoint = metrics::Endpoint {
                        registry,
                        health,
                        // Turning health over HTTP is a fault anyone who reaches the port
                        // could inject: only when the server lets requests ask for faults.
                        switch: services
                            .faults
                            .allow_request_faults
                            .then(|| health_switch.clone()),
                    };
                    metrics::serve(listener, endpoint, shutdown.clone()).await
                }
                _ => Ok(()),
            }
        };
        announce_readiness(local);
        tracing::info!(
            "serving helloworld.Greeter{}, health{} on {local} over {} with {workers} worker{}",
            if services.auth.required() {
                " (token required)"
            } else {
                ""
            },
            if services.reflection {
                ", reflection"
            } else {
                ""
            },
            if services.tls.is_some() {
                "TLS"
            } else {
                "plaintext"
            },
            if workers == 1 { "" } else { "s" }
        );

        // Cannot fail: `metrics::new(workers)` made one entry per worker, and workers >= 1.
        let first_metrics = worker_metrics.as_ref().map(|all| all[0].clone());
        let serving =
            workers::serve_connections(first_share, services, first_metrics, shutdown.clone());
        let draining = async {
            let accepting = pool.accept(listener, admission, shutdown.clone());
            let ((), served, exported) = tokio::join!(accepting, serving, exporting);
            served.and(exported).and(pool.join().await)
        };
        tokio::select! {
            outcome = draining => outcome,
            () = signals.drain_on_signal(&shutdown_tx, grace_period) => Ok(()),
        }
    }
}

/// The readiness line of the contract: one line on stdout, flushed, once connections are
/// accepted. Scripts and tests wait for it to learn the port.
fn announce_readiness(local: &str) {
    let mut stdout = std::io::stdout().lock();
    // Nobody reading stdout is no reason to stop serving.
    let _ = writeln!(stdout, "listening on {local}").and_then(|()| stdout.flush());
}
