//! grpc.health.v1.Health as the spec (grpc/grpc doc/health-checking.md) has it: Check, List and
//! Watch for the whole server (`""`) and `helloworld.Greeter`.
//!
//! tonic-health answers Watch for an unknown name with NOT_FOUND where the spec streams
//! SERVICE_UNKNOWN, and has no List, hence this small implementation. Every name follows the
//! server's one state: SERVING until shutdown is asked for, NOT_SERVING from then on.

use std::collections::HashMap;

use tokio::sync::{mpsc, watch};
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};

use crate::proto::health::health_check_response::ServingStatus;
use crate::proto::health::health_server::Health;
use crate::proto::health::{
    HealthCheckRequest, HealthCheckResponse, HealthListRequest, HealthListResponse,
};

/// The names the health service reports on: the server as a whole and its one service.
pub const SERVICES: [&str; 2] = ["", "helloworld.Greeter"];

/// Health answers, driven by the server's shutdown flag.
#[derive(Clone)]
pub struct HealthService {
    shutdown: watch::Receiver<bool>,
}

impl HealthService {
    pub fn new(shutdown: watch::Receiver<bool>) -> Self {
        HealthService { shutdown }
    }

    fn current(&self) -> ServingStatus {
        serving_status(*self.shutdown.borrow())
    }
}

fn serving_status(shutting_down: bool) -> ServingStatus {
    if shutting_down {
        ServingStatus::NotServing
    } else {
        ServingStatus::Serving
    }
}

fn reply(status: ServingStatus) -> HealthCheckResponse {
    HealthCheckResponse {
        status: status.into(),
    }
}

fn known(service: &str) -> bool {
    SERVICES.contains(&service)
}

#[tonic::async_trait]
impl Health for HealthService {
    async fn check(
        &self,
        request: Request<HealthCheckRequest>,
    ) -> Result<Response<HealthCheckResponse>, Status> {
        let service = request.into_inner().service;
        if !known(&service) {
            return Err(Status::not_found(format!(
                "unknown service '{service}': this server reports on '' and helloworld.Greeter"
            )));
        }
        Ok(Response::new(reply(self.current())))
    }

    async fn list(
        &self,
        _request: Request<HealthListRequest>,
    ) -> Result<Response<HealthListResponse>, Status> {
        let status = self.current();
        let statuses: HashMap<String, HealthCheckResponse> = SERVICES
            .iter()
            .map(|name| (name.to_string(), reply(status)))
            .collect();
        Ok(Response::new(HealthListResponse { statuses }))
    }

    type WatchStream = ReceiverStream<Result<HealthCheckResponse, Status>>;

    /// Sends the status now and at every change. An unknown name gets SERVICE_UNKNOWN and the
    /// stream stays open, as the spec says. At shutdown a known name gets NOT_SERVING; then the
    /// stream ends, so open watches never hold up the drain.
    async fn watch(
        &self,
        request: Request<HealthCheckRequest>,
    ) -> Result<Response<Self::WatchStream>, Status> {
        let service = request.into_inner().service;
        let known = known(&service);
        let first = if known {
            self.current()
        } else {
            ServingStatus::ServiceUnknown
        };
        let mut shutdown = self.shutdown.clone();
        let (updates, stream) = mpsc::channel(2);
        tokio::spawn(async move {
            if updates.send(Ok(reply(first))).await.is_err() {
                return;
            }
            tokio::select! {
                () = updates.closed() => {}
                _ = async { shutdown.wait_for(|&stop| stop).await.is_ok() } => {
                    if known && first != ServingStatus::NotServing {
                        let _ = updates.send(Ok(reply(ServingStatus::NotServing))).await;
                    }
                }
            }
        });
        Ok(Response::new(ReceiverStream::new(stream)))
    }
}
