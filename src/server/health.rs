//! grpc.health.v1.Health as the spec (grpc/grpc doc/health-checking.md) has it: Check, List and
//! Watch for the whole server (`""`) and `helloworld.Greeter`.
//!
//! tonic-health answers Watch for an unknown name with NOT_FOUND where the spec streams
//! SERVICE_UNKNOWN, and has no List, hence this small implementation. Every name follows the
//! server's one state: SERVING until shutdown is asked for, NOT_SERVING from then on, and
//! NOT_SERVING while `health_switch` has turned it so.

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

/// The server's health: NOT_SERVING once shutdown is asked for, or while turned so.
#[derive(Clone)]
pub struct HealthState {
    pub shutdown: watch::Receiver<bool>,
    pub turned_off: watch::Receiver<bool>,
}

impl HealthState {
    pub fn serving(&self) -> bool {
        !*self.shutdown.borrow() && !*self.turned_off.borrow()
    }

    fn current(&self) -> ServingStatus {
        if self.serving() {
            ServingStatus::Serving
        } else {
            ServingStatus::NotServing
        }
    }

    /// Waits for either to change; true if it was the shutdown. A side whose sender is gone
    /// (the server is ending) never changes again.
    async fn changed(&mut self) -> bool {
        let never = std::future::pending::<()>;
        tokio::select! {
            Ok(()) = self.shutdown.changed() => true,
            Ok(()) = self.turned_off.changed() => false,
            () = never() => false,
        }
    }

    /// Calls `update` with the health now and after every change, until shutdown.
    pub async fn follow(mut self, update: impl Fn(bool)) {
        loop {
            update(self.serving());
            if *self.shutdown.borrow() || self.changed().await {
                update(self.serving());
                return;
            }
        }
    }
}

/// Health answers, driven by the server's state.
#[derive(Clone)]
pub struct HealthService {
    state: HealthState,
}

impl HealthService {
    pub fn new(state: HealthState) -> Self {
        HealthService { state }
    }

    fn current(&self) -> ServingStatus {
        self.state.current()
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
    /// stream stays open, as the spec says. At shutdown a known name gets NOT_SERVING (unless
    /// it had it already); then the stream ends, so open watches never hold up the drain.
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
        let mut state = self.state.clone();
        let (updates, stream) = mpsc::channel(2);
        tokio::spawn(async move {
            if updates.send(Ok(reply(first))).await.is_err() {
                return;
            }
            let mut last = first;
            loop {
                let shutdown = tokio::select! {
                    () = updates.closed() => return,
                    shutdown = state.changed() => shutdown,
                };
                let now = state.current();
                if known && now != last {
                    if updates.send(Ok(reply(now))).await.is_err() {
                        return;
                    }
                    last = now;
                }
                if shutdown && *state.shutdown.borrow() {
                    return;
                }
            }
        });
        Ok(Response::new(ReceiverStream::new(stream)))
    }
}
