//! A new connection's opening, from accept to HTTP/2: the TLS handshake when the server
//! speaks TLS, the first bytes (HTTP/2's preface, or an HTTP/1 request answered and closed),
//! then the connection's HTTP/2 life with the layers around every call.

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;
use tower::ServiceBuilder;

use std::sync::Arc;

use super::conformance::ConformanceLayer;
use super::connection::{self, Lifecycle};
use super::echo::{Echo, EchoLayer};
use super::faults::{FaultLayer, Faults};
use super::metrics::WorkerMetrics;
use super::observe::ObserveLayer;
use super::routes::GrpcRoutes;
use super::{preface, tls};

/// One worker's copy of the services, cloned into each connection's task.
#[derive(Clone)]
pub struct WorkerServices {
    pub(super) routes: GrpcRoutes,
    pub(super) metrics: Option<WorkerMetrics>,
    pub(super) lifecycle: Lifecycle,
    pub(super) tls: Option<TlsAcceptor>,
    pub(super) replica: &'static http::HeaderValue,
    pub(super) faults: &'static Faults,
    pub(super) echo: Option<&'static Echo>,
}

impl WorkerServices {
    /// Serves one accepted connection to its end: the TLS handshake if the server speaks TLS,
    /// then HTTP/2 until the client leaves, the connection's time is up, or shutdown.
    pub async fn serve_connection<IO>(
        self,
        io: IO,
        peer: String,
        mut shutdown: watch::Receiver<bool>,
    ) where
        IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        // A drain does not wait for handshakes or first bytes: those clients have no call in
        // flight yet.
        let timeout = self.lifecycle.request_timeout;
        let Some(acceptor) = self.tls.clone() else {
            let opened = tokio::select! {
                opened = preface::sniff_within(timeout, io, &peer) => opened,
                _ = shutdown.wait_for(|&stop| stop) => None,
            };
            if let Some(io) = opened {
                self.serve_http2(io, peer, shutdown).await;
            }
            return;
        };
        let opened = tokio::select! {
            opened = async {
                let stream = tls::handshake(&acceptor, io, &peer).await?;
                preface::sniff_within(timeout, stream, &peer).await
            } => opened,
            _ = shutdown.wait_for(|&stop| stop) => None,
        };
        if let Some(stream) = opened {
            self.serve_http2(stream, peer, shutdown).await;
        }
    }

    /// HTTP/2 with the layers around every call. The layers of the test-only flags are a
    /// stack of their own, so a server without them runs exactly the stack it ran before they
    /// existed: not even a branch or a larger future per call.
    async fn serve_http2<IO>(self, io: IO, peer: String, shutdown: watch::Receiver<bool>)
    where
        IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let peer: Arc<str> = peer.into();
        let testing = self.echo.is_some() || self.faults.any();
        let conformance = ConformanceLayer {
            request_timeout: self.lifecycle.request_timeout,
            replica: self.replica,
        };
        if !testing {
            let service = ServiceBuilder::new()
                .layer(ObserveLayer::<false> {
                    metrics: self.metrics,
                    peer,
                })
                .layer(conformance)
                .service(self.routes);
            return connection::serve(io, service, self.lifecycle, shutdown).await;
        }
        let service = ServiceBuilder::new()
            .layer(ObserveLayer::<true> {
                metrics: self.metrics,
                peer: peer.clone(),
            })
            // Outside the faults, so an injected status echoes too.
            .option_layer(self.echo.map(|echo| EchoLayer { echo, peer }))
            .option_layer(self.faults.any().then_some(FaultLayer {
                faults: self.faults,
                replica: self.replica,
            }))
            .layer(conformance)
            .service(self.routes);
        connection::serve(io, service, self.lifecycle, shutdown).await;
    }
}
