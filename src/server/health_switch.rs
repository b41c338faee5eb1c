//! Health on demand, for testing readiness gates and load-balancer draining without stopping
//! the server: SIGUSR1 turns it NOT_SERVING, SIGUSR2 back to SERVING; so do
//! `POST /healthz/not-serving` and `POST /healthz/serving` on --metrics-addr, with
//! --allow-request-faults. Greeter calls are served as before either way: only what health
//! reports changes, as when a real server says it should not get new work.

use std::sync::Arc;

use http::{Method, StatusCode};
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::watch;

use super::health::HealthState;

/// Who turns health: kept by the server, shared with the metrics endpoint.
#[derive(Clone)]
pub struct HealthSwitch {
    turned_off: Arc<watch::Sender<bool>>,
}

impl HealthSwitch {
    pub fn new() -> Self {
        HealthSwitch {
            turned_off: Arc::new(watch::Sender::new(false)),
        }
    }

    /// Whether health was turned NOT_SERVING, and every change of it.
    pub fn subscribe(&self) -> watch::Receiver<bool> {
        self.turned_off.subscribe()
    }

    /// Turns health NOT_SERVING (`off`) or back, logging the change and what made it.
    pub fn turn(&self, off: bool, by: &str) {
        let changed = self.turned_off.send_if_modified(|turned_off| {
            let changed = *turned_off != off;
            *turned_off = off;
            changed
        });
        if !changed {
            return;
        }
        if off {
            tracing::warn!(
                "health turned NOT_SERVING by {by}: Greeter calls are still served; SIGUSR2 (or \
                 POST /healthz/serving) turns it back"
            );
        } else {
            tracing::info!("health turned SERVING by {by}");
        }
    }

    /// Turns health at each SIGUSR1 and SIGUSR2, for the process's life. Installed before the
    /// readiness line (the signals' default action is to end the process).
    pub fn follow_signals(&self) -> std::io::Result<impl Future<Output = ()> + use<>> {
        let mut off = signal(SignalKind::user_defined1())?;
        let mut on = signal(SignalKind::user_defined2())?;
        let switch = self.clone();
        Ok(async move {
            loop {
                // SIGUSR1 first when both are pending: the kernel delivers 10 before 12, so
                // `kill -USR1; kill -USR2` ends SERVING, as it was sent.
                tokio::select! {
                    biased;
                    Some(()) = off.recv() => switch.turn(true, "SIGUSR1"),
                    Some(()) = on.recv() => switch.turn(false, "SIGUSR2"),
                    else => return,
                }
            }
        })
    }
}

/// The metrics endpoint's answer to `/healthz` and `/healthz/...`, or None for other paths.
///
/// `GET /healthz` says SERVING (200) or NOT_SERVING (503), for load balancers and probes that
/// speak only HTTP (HAProxy's `option httpchk`, Kubernetes' httpGet). With a `switch`, `POST
/// /healthz/not-serving` and `POST /healthz/serving` turn it.
pub fn respond_http(
    method: &Method,
    path: &str,
    state: &HealthState,
    switch: Option<&HealthSwitch>,
) -> Option<(StatusCode, String)> {
    let turn_off = match path {
        "/healthz" => {
            if method != Method::GET && method != Method::HEAD {
                return Some((StatusCode::METHOD_NOT_ALLOWED, "use GET\n".into()));
            }
            return Some(report(state));
        }
        "/healthz/not-serving" => true,
        "/healthz/serving" => false,
        _ => return None,
    };
    if method != Method::POST {
        return Some((StatusCode::METHOD_NOT_ALLOWED, "use POST\n".into()));
    }
    let Some(switch) = switch else {
        return Some((
            StatusCode::FORBIDDEN,
            "turning health over HTTP is off: start the server with --allow-request-faults, \
             or send it SIGUSR1 and SIGUSR2\n"
                .into(),
        ));
    };
    switch.turn(turn_off, &format!("POST {path}"));
    Some(report(state))
}

fn report(state: &HealthState) -> (StatusCode, String) {
    if state.serving() {
        (StatusCode::OK, "SERVING\n".into())
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "NOT_SERVING\n".into())
    }
}
