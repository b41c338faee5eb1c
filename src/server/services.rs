//! What every worker serves on its connections: the Greeter, health, reflection, and the access
//! log around them all.

use color_eyre::eyre::{Result, WrapErr, eyre};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::watch;
use tokio_stream::Stream;
use tonic::transport::Server;
use tonic::transport::server::Connected;

use super::greeter::Greeter;
use super::health::HealthService;
use super::metrics::WorkerMetrics;
use super::observe::ObserveLayer;
use super::shutdown;
use crate::proto;
use crate::proto::greeter_server::GreeterServer;
use crate::proto::health::health_server::HealthServer;

/// The service set, the same on every worker.
#[derive(Debug, Clone, Copy)]
pub struct Services {
    pub greeter: Greeter,
    /// Serve grpc.reflection.v1 and v1alpha (old grpcurl, evans and Postman speak only v1alpha).
    pub reflection: bool,
}

impl Services {
    /// Serves `connections` until shutdown is asked for, then drains them; counts the calls in
    /// `metrics` if there are any.
    pub async fn serve<IO>(
        self,
        connections: impl Stream<Item = std::io::Result<IO>>,
        metrics: Option<WorkerMetrics>,
        shutdown: watch::Receiver<bool>,
    ) -> Result<()>
    where
        IO: AsyncRead + AsyncWrite + Connected + Unpin + Send + 'static,
    {
        let (reflection_v1, reflection_v1alpha) = if self.reflection {
            let builder = || {
                tonic_reflection::server::Builder::configure()
                    .register_encoded_file_descriptor_set(proto::DESCRIPTOR_SET)
            };
            (
                Some(
                    builder()
                        .build_v1()
                        .wrap_err("could not set up reflection v1")?,
                ),
                Some(
                    builder()
                        .build_v1alpha()
                        .wrap_err("could not set up reflection v1alpha")?,
                ),
            )
        } else {
            (None, None)
        };
        Server::builder()
            .layer(ObserveLayer { metrics })
            .add_service(GreeterServer::new(self.greeter))
            .add_service(HealthServer::new(HealthService::new(shutdown.clone())))
            .add_optional_service(reflection_v1)
            .add_optional_service(reflection_v1alpha)
            .serve_with_incoming_shutdown(connections, shutdown::requested(shutdown))
            .await
            .map_err(|err| eyre!("serving failed: {err}"))
    }
}
