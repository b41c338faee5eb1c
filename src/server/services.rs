//! The services every worker serves: the Greeter (behind the token check, when there is one),
//! health and reflection, with the message limits and compression; `opening` serves them on
//! each connection.

use color_eyre::eyre::{Result, WrapErr};
use http::HeaderValue;
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;
use tonic::codec::CompressionEncoding;
use tonic::service::interceptor::InterceptedService;

use super::auth::BearerAuth;
use super::connection::Lifecycle;
use super::echo::Echo;
use super::faults::Faults;
use super::greeter::Greeter;
use super::health::{HealthService, HealthState};
use super::metrics::WorkerMetrics;
use super::opening::WorkerServices;
use super::routes::{GreeterRoute, GrpcRoutes};
use crate::proto;
use crate::proto::greeter_server::GreeterServer;
use crate::proto::health::health_server::HealthServer;

/// The largest messages accepted and sent.
#[derive(Debug, Clone, Copy)]
pub struct MessageLimits {
    pub max_recv: usize,
    pub max_send: usize,
}

/// The service set and how connections are served, the same on every worker.
#[derive(Clone)]
pub struct Services {
    pub greeter: Greeter,
    /// Serve grpc.reflection.v1 and v1alpha (old grpcurl, evans and Postman speak only v1alpha).
    pub reflection: bool,
    pub auth: BearerAuth,
    pub limits: MessageLimits,
    pub lifecycle: Lifecycle,
    /// Speak TLS on every connection.
    pub tls: Option<TlsAcceptor>,
    /// Sent as `greeter-replica` on every response.
    pub replica: &'static HeaderValue,
    pub faults: &'static Faults,
    pub echo: Option<&'static Echo>,
    /// Whether health was turned NOT_SERVING on demand (see `health_switch`).
    pub health_turned_off: watch::Receiver<bool>,
}

/// Both encodings tonic can speak, accepted on requests and used for replies (when the
/// request used it: see `conformance`).
const ENCODINGS: [CompressionEncoding; 2] = [CompressionEncoding::Gzip, CompressionEncoding::Zstd];

/// Applies the limits and encodings to a generated tonic server type, which all have the same
/// builder methods but share no trait.
macro_rules! configured {
    ($server:expr, $limits:expr) => {{
        let mut server = $server
            .max_decoding_message_size($limits.max_recv)
            .max_encoding_message_size($limits.max_send);
        for encoding in ENCODINGS {
            server = server.accept_compressed(encoding).send_compressed(encoding);
        }
        server
    }};
}

impl Services {
    /// Every service of the server, routed by path; unknown paths get UNIMPLEMENTED.
    fn routes(&self, shutdown: &watch::Receiver<bool>) -> Result<GrpcRoutes> {
        let greeter = configured!(GreeterServer::new(self.greeter), self.limits);
        let health = configured!(
            HealthServer::new(HealthService::new(HealthState {
                shutdown: shutdown.clone(),
                turned_off: self.health_turned_off.clone(),
            })),
            self.limits
        );
        // The interceptor turns each request into a tonic::Request and back: only pay for that
        // when there is a token to check.
        let greeter = if self.auth.required() {
            GreeterRoute::Guarded(InterceptedService::new(greeter, self.auth.clone()))
        } else {
            GreeterRoute::Open(greeter)
        };
        let mut routes = GrpcRoutes::new(greeter).add(health);
        if self.reflection {
            let builder = || {
                tonic_reflection::server::Builder::configure()
                    .register_encoded_file_descriptor_set(proto::DESCRIPTOR_SET)
            };
            let v1 = builder()
                .build_v1()
                .wrap_err("could not set up reflection v1")?;
            let v1alpha = builder()
                .build_v1alpha()
                .wrap_err("could not set up reflection v1alpha")?;
            routes = routes
                .add(configured!(v1, self.limits))
                .add(configured!(v1alpha, self.limits));
        }
        Ok(routes)
    }

    /// What a worker needs to serve its connections.
    pub fn for_worker(
        &self,
        metrics: Option<WorkerMetrics>,
        shutdown: &watch::Receiver<bool>,
    ) -> Result<WorkerServices> {
        Ok(WorkerServices {
            routes: self.routes(shutdown)?,
            metrics,
            lifecycle: self.lifecycle,
            tls: self.tls.clone(),
            replica: self.replica,
            faults: self.faults,
            echo: self.echo,
        })
    }
}
