//! SIGINT and SIGTERM: the first starts a graceful drain bounded by the grace period, a second
//! one ends the process at once.

use std::time::Duration;

use tokio::signal::unix::{Signal, SignalKind, signal};
use tokio::sync::watch;

/// The signal handlers. Installing them replaces the default action (die at once), so they are
/// installed before the readiness line: a signal sent right after it must still drain.
pub struct Signals {
    interrupt: Signal,
    terminate: Signal,
}

/// A signal received, with the exit status a shell would report had it killed us.
struct Received {
    name: &'static str,
    exit_status: i32,
}

impl Signals {
    pub fn install() -> std::io::Result<Self> {
        Ok(Signals {
            interrupt: signal(SignalKind::interrupt())?,
            terminate: signal(SignalKind::terminate())?,
        })
    }

    async fn next(&mut self) -> Received {
        tokio::select! {
            _ = self.interrupt.recv() => Received { name: "SIGINT", exit_status: 128 + 2 },
            _ = self.terminate.recv() => Received { name: "SIGTERM", exit_status: 128 + 15 },
        }
    }

    /// Waits for the first signal and tells every worker to drain; then returns when the grace
    /// period is over. A second signal exits the process at once.
    pub async fn drain_on_signal(mut self, shutdown: &watch::Sender<bool>, grace: Duration) {
        let first = self.next().await;
        tracing::info!(
            "{} received: finishing calls in flight for up to {} (send it again to exit at \
             once)",
            first.name,
            humantime::format_duration(grace)
        );
        let _ = shutdown.send(true);
        tokio::select! {
            second = self.next() => {
                tracing::warn!("{} received again: exiting now", second.name);
                std::process::exit(second.exit_status);
            }
            () = tokio::time::sleep(grace) => {
                tracing::warn!("grace period over: closing the connections still open");
            }
        }
    }
}
