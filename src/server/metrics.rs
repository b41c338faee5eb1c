//! Prometheus metrics, kept per worker so recording a call never touches another core's cache
//! lines: each worker owns its families, labelled `worker="N"`, and a scrape reads them all.

use std::borrow::Cow;
use std::convert::Infallible;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use color_eyre::eyre::{Result, WrapErr};
use http::{Method, Request, Response, StatusCode, header};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use tokio::sync::watch;
use tonic::Code;

use super::faults::Injected;
use super::health::HealthState;
use super::health_switch::{self, HealthSwitch};
use crate::exit::code_name;

/// The methods this server serves; anything else is counted as `unknown`, so a client sending
/// random paths cannot grow the label set without bound.
const METHODS: [&str; 8] = [
    "/helloworld.Greeter/SayHello",
    "/helloworld.Greeter/SayHelloStreamReply",
    "/helloworld.Greeter/SayHelloBidiStream",
    "/grpc.health.v1.Health/Check",
    "/grpc.health.v1.Health/List",
    "/grpc.health.v1.Health/Watch",
    "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
    "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
];

/// A call's method as a label value: one of [`METHODS`] or `unknown`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MethodLabel(usize);

impl MethodLabel {
    pub fn of(path: &str) -> Self {
        Self(
            METHODS
                .iter()
                .position(|method| *method == path)
                .unwrap_or(METHODS.len()),
        )
    }

    pub fn name(self) -> &'static str {
        METHODS.get(self.0).copied().unwrap_or("unknown")
    }
}

/// Method label values: [`METHODS`] and `unknown`.
const METHOD_LABELS: usize = METHODS.len() + 1;
/// gRPC status codes, 0 (OK) to 16 (UNAUTHENTICATED).
const CODES: usize = 17;

/// Each series a call records into, taken from its family the first time and then used
/// directly: a family lookup hashes the labels and takes a lock, on every call. Filled lazily,
/// so a scrape shows only the series that have seen a call, as before.
struct Series {
    latency: [OnceLock<Histogram>; METHOD_LABELS],
    calls: [[OnceLock<Counter>; CODES]; METHOD_LABELS],
}

impl Default for Series {
    fn default() -> Self {
        Self {
            latency: std::array::from_fn(|_| OnceLock::new()),
            calls: std::array::from_fn(|_| std::array::from_fn(|_| OnceLock::new())),
        }
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CallLabels {
    method: &'static str,
    code: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct MethodLabels {
    method: &'static str,
}

type LatencyFamily = Family<MethodLabels, Histogram, fn() -> Histogram>;

/// One worker's metrics. Cloning shares them.
#[derive(Clone)]
pub struct WorkerMetrics {
    calls: Family<CallLabels, Counter>,
    latency: LatencyFamily,
    series: Arc<Series>,
    in_flight: Gauge,
    connections_open: Gauge,
    connections_accepted: Counter,
    injected_statuses: Family<CallLabels, Counter>,
    injected_delays: Family<MethodLabels, Counter>,
}

impl WorkerMetrics {
    pub fn call_started(&self) {
        self.in_flight.inc();
    }

    pub fn call_ended(&self, method: MethodLabel, code: Code, elapsed: Duration) {
        self.in_flight.dec();
        // Metric handles share their values with the family's series. In range: a MethodLabel
        // is made only by `of` (at most METHODS.len()), and tonic's Code has the 17 values of
        // the spec (an unknown number on the wire becomes Unknown).
        let calls = self.series.calls[method.0][code as usize].get_or_init(|| {
            let labels = CallLabels {
                method: method.name(),
                code: code_name(code),
            };
            self.calls.get_or_create(&labels).clone()
        });
        calls.inc();
        let latency = self.series.latency[method.0].get_or_init(|| {
            let labels = MethodLabels {
                method: method.name(),
            };
            self.latency.get_or_create(&labels).clone()
        });
        latency.observe(elapsed.as_secs_f64());
    }

    /// A call that ended with a fault of --fault-delay, --fault-status or its own metadata.
    /// Off the hot path: only faulted calls come here, so the families are looked up.
    pub fn injected(&self, method: MethodLabel, injected: Injected) {
        if let Some(code) = injected.status {
            let labels = CallLabels {
                method: method.name(),
                code: code_name(code),
            };
            self.injected_statuses.get_or_create(&labels).inc();
        }
        if injected.delay.is_some() {
            let labels = MethodLabels {
                method: method.name(),
            };
            self.injected_delays.get_or_create(&labels).inc();
        }
    }

    pub fn connection_opened(&self) {
        self.connections_accepted.inc();
        self.connections_open.inc();
    }

    pub fn connection_closed(&self) {
        self.connections_open.dec();
    }
}

/// 25 µs to about 1.6 s, doubling: a unary call on loopback takes tens of microseconds, a
/// default stream 400 ms.
fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.000_025, 2.0, 17))
}

/// Every metric the server keeps, and the registry that exposes them.
pub struct Metrics {
    pub registry: Arc<Registry>,
    /// One per worker.
    pub workers: Vec<WorkerMetrics>,
    /// Connections the acceptor closed at once: --max-connections were open.
    pub connections_refused: Counter,
    /// 1 while health says SERVING, 0 while NOT_SERVING.
    pub health_serving: Gauge,
}

/// Creates the metrics of `workers` workers and of the acceptor.
pub fn new(workers: usize) -> Metrics {
    let mut registry = Registry::with_prefix("greeter");
    let connections_refused = Counter::default();
    registry.register(
        "connections_refused",
        "Client connections closed at once because --max-connections were open",
        connections_refused.clone(),
    );
    let health_serving = Gauge::default();
    registry.register(
        "health_serving",
        "1 while grpc.health.v1 reports SERVING, 0 while NOT_SERVING (draining, or turned by \
         SIGUSR1 or POST /healthz/not-serving)",
        health_serving.clone(),
    );
    let handles = (0..workers)
        .map(|index| {
            let worker = registry
                .sub_registry_with_label((Cow::Borrowed("worker"), Cow::Owned(index.to_string())));
            let metrics = WorkerMetrics {
                calls: Family::default(),
                latency: Family::new_with_constructor(latency_histogram),
                series: Arc::default(),
                in_flight: Gauge::default(),
                connections_open: Gauge::default(),
                connections_accepted: Counter::default(),
                injected_statuses: Family::default(),
                injected_delays: Family::default(),
            };
            worker.register(
                "calls",
                "Calls finished, by method and gRPC status code",
                metrics.calls.clone(),
            );
            worker.register(
                "call_duration_seconds",
                "Time from a call's headers to its status, by method",
                metrics.latency.clone(),
            );
            worker.register(
                "calls_in_flight",
                "Calls started and not yet finished",
                metrics.in_flight.clone(),
            );
            worker.register(
                "connections_open",
                "Client connections open now",
                metrics.connections_open.clone(),
            );
            worker.register(
                "connections_accepted",
                "Client connections handed to this worker",
                metrics.connections_accepted.clone(),
            );
            worker.register(
                "injected_statuses",
                "Calls failed on purpose (--fault-status or greeter-fault-status), by method and \
                 code; also counted in greeter_calls_total",
                metrics.injected_statuses.clone(),
            );
            worker.register(
                "injected_delays",
                "Calls held on purpose (--fault-delay or greeter-fault-delay), by method",
                metrics.injected_delays.clone(),
            );
            metrics
        })
        .collect();
    Metrics {
        registry: Arc::new(registry),
        workers: handles,
        connections_refused,
        health_serving,
    }
}

/// What the metrics port serves: the metrics, and the health for HTTP-only checkers.
pub struct Endpoint {
    pub registry: Arc<Registry>,
    pub health: HealthState,
    /// Lets `POST /healthz/...` turn health (--allow-request-faults).
    pub switch: Option<HealthSwitch>,
}

/// Serves `GET /metrics` (Prometheus and OpenMetrics text) and `/healthz` (see
/// `health_switch`) on `listener` until shutdown.
pub async fn serve(
    listener: std::net::TcpListener,
    endpoint: Endpoint,
    mut shutdown: watch::Receiver<bool>,
) -> Result<()> {
    let endpoint = Arc::new(endpoint);
    let listener = tokio::net::TcpListener::from_std(listener)
        .wrap_err("could not serve metrics on the runtime")?;
    loop {
        let stream = tokio::select! {
            _ = shutdown.wait_for(|&stop| stop) => return Ok(()),
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(err) => {
                    tracing::warn!("accepting a metrics connection failed: {err}");
                    continue;
                }
            },
        };
        let endpoint = Arc::clone(&endpoint);
        let service = hyper::service::service_fn(move |request| {
            let endpoint = Arc::clone(&endpoint);
            async move { Ok::<_, Infallible>(respond(&request, &endpoint)) }
        });
        tokio::spawn(async move {
            let connection = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service);
            if let Err(err) = connection.await {
                tracing::debug!("metrics connection: {err}");
            }
        });
    }
}

fn respond(request: &Request<Incoming>, endpoint: &Endpoint) -> Response<Full<Bytes>> {
    let reply = |status, content_type, body: String| {
        Response::builder()
            .status(status)
            .header(header::CONTENT_TYPE, content_type)
            .body(Full::new(Bytes::from(body)))
            .expect("a status code and a constant content-type make a valid response")
    };
    let path = request.uri().path();
    if let Some((status, body)) = health_switch::respond_http(
        request.method(),
        path,
        &endpoint.health,
        endpoint.switch.as_ref(),
    ) {
        return reply(status, "text/plain", body);
    }
    if path != "/metrics" {
        return reply(
            StatusCode::NOT_FOUND,
            "text/plain",
            "not found: metrics are at /metrics, health at /healthz\n".into(),
        );
    }
    if request.method() != Method::GET && request.method() != Method::HEAD {
        return reply(
            StatusCode::METHOD_NOT_ALLOWED,
            "text/plain",
            "use GET\n".into(),
        );
    }
    let mut text = String::new();
    match prometheus_client::encoding::text::encode(&mut text, &endpoint.registry) {
        Ok(()) => reply(
            StatusCode::OK,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
            text,
        ),
        Err(_) => reply(
            StatusCode::INTERNAL_SERVER_ERROR,
            "text/plain",
            "could not encode the metrics\n".into(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_methods_share_one_label() {
        assert_eq!(
            MethodLabel::of("/helloworld.Greeter/SayHello").name(),
            "/helloworld.Greeter/SayHello"
        );
        for unknown in ["/helloworld.Greeter/SayGoodbye", "/random/12345", ""] {
            assert_eq!(MethodLabel::of(unknown).name(), "unknown");
        }
        assert_eq!(MethodLabel::of("/no/such"), MethodLabel::of("/other/path"));
    }

    #[test]
    fn calls_are_counted_per_worker_method_and_code() {
        let Metrics {
            registry,
            workers,
            connections_refused,
            ..
        } = new(2);
        let say_hello = MethodLabel::of("/helloworld.Greeter/SayHello");
        for code in [Code::Ok, Code::Ok, Code::Unauthenticated] {
            workers[1].call_started();
            workers[1].call_ended(say_hello, code, Duration::from_micros(40));
        }
        workers[1].connection_opened();
        connections_refused.inc();
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
        assert!(text.contains(
            "greeter_calls_total{worker=\"1\",method=\"/helloworld.Greeter/SayHello\",code=\"OK\"} 2"
        ), "{text}");
        assert!(text.contains(
            "greeter_calls_total{worker=\"1\",method=\"/helloworld.Greeter/SayHello\",code=\"UNAUTHENTICATED\"} 1"
        ), "{text}");
        assert!(text.contains(
            "greeter_call_duration_seconds_count{worker=\"1\",method=\"/helloworld.Greeter/SayHello\"} 3"
        ), "{text}");
        assert!(
            !text.contains("code=\"NOT_FOUND\""),
            "series appear only once used: {text}"
        );
        assert!(
            text.contains("greeter_calls_in_flight{worker=\"1\"} 0"),
            "{text}"
        );
        assert!(
            text.contains("greeter_connections_open{worker=\"1\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("greeter_connections_open{worker=\"0\"} 0"),
            "{text}"
        );
        assert!(
            text.contains("greeter_connections_refused_total 1"),
            "the acceptor's, with no worker label: {text}"
        );
    }
}
