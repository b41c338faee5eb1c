//! Each request to its service by path, as gRPC paths need no general-purpose router:
//! `/package.Service/Method` names the service, and the service itself answers UNIMPLEMENTED
//! for a method it lacks. A path no service claims gets UNIMPLEMENTED with grpc-go's message;
//! a request whose content-type is not gRPC's gets `content_type`'s answer first.
//!
//! tonic's `Routes` does this through axum: a route match, URL parameters stored in the
//! request's extensions, the service cloned into a new box and both bodies boxed again, on
//! every call. Here the Greeter, the service every call is for, is called directly.

use std::convert::Infallible;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_util::TryFutureExt as _;
use futures_util::future::BoxFuture;
use http::{Request, Response};
use hyper::body::Incoming;
use tonic::Status;
use tonic::body::Body;
use tonic::server::NamedService;
use tonic::service::interceptor::InterceptedService;
use tower::Service;
use tower::util::BoxCloneSyncService;

use super::auth::BearerAuth;
use super::content_type;
use super::greeter::Greeter;
use super::observe::RequestBody;
use crate::proto::greeter_server::GreeterServer;

/// A request as the routes get it: hyper's body, watched for the client going away.
type Call = Request<RequestBody<Incoming>>;

type Boxed = BoxCloneSyncService<Call, Response<Body>, Infallible>;

/// The Greeter, behind the token check when there is one.
#[derive(Clone)]
pub enum GreeterRoute {
    Open(GreeterServer<Greeter>),
    Guarded(InterceptedService<GreeterServer<Greeter>, BearerAuth>),
}

/// The services of a worker, by name. hyper's service glue clones it for every call, so a
/// clone is two reference counts.
#[derive(Clone)]
pub struct GrpcRoutes {
    greeter: GreeterRoute,
    /// Health and, when it is on, reflection: off the hot path, so boxed (and a call to one
    /// clones its box).
    others: Arc<[(&'static str, Boxed)]>,
}

impl GrpcRoutes {
    pub fn new(greeter: GreeterRoute) -> Self {
        Self {
            greeter,
            others: Arc::new([]),
        }
    }

    /// Adds a generated tonic server under its service name.
    pub fn add<S>(mut self, service: S) -> Self
    where
        S: Service<Call, Response = Response<Body>, Error = Infallible>
            + NamedService
            + Clone
            + Send
            + Sync
            + 'static,
        S::Future: Send + 'static,
    {
        let mut others = self.others.to_vec();
        others.push((S::NAME, BoxCloneSyncService::new(service)));
        self.others = others.into();
        self
    }
}

impl Service<Call> for GrpcRoutes {
    type Response = Response<Body>;
    type Error = Infallible;
    // What tonic's generated servers return: one box per call, made by the service itself.
    type Future = BoxFuture<'static, Result<Response<Body>, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        // tonic's generated servers, the interceptor around one and the boxes of them are
        // always ready (they start each call in a future of its own).
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Call) -> Self::Future {
        if content_type::kind(request.headers()) != content_type::Kind::Grpc {
            return Box::pin(std::future::ready(Ok(content_type::unsupported(
                request.headers(),
            ))));
        }
        let name = service_name(request.uri().path());
        if name == Some(<GreeterServer<Greeter> as NamedService>::NAME) {
            return match &mut self.greeter {
                GreeterRoute::Open(greeter) => greeter.call(request),
                // The interceptor wraps the reply's body in its own type.
                GreeterRoute::Guarded(guarded) => Box::pin(
                    guarded
                        .call(request)
                        .map_ok(|response| response.map(Body::new)),
                ),
            };
        }
        if let Some((_, service)) = self.others.iter().find(|(known, _)| Some(*known) == name) {
            return service.clone().call(request);
        }
        let message = match name {
            Some(name) => format!("unknown service {name}"),
            None => format!("malformed method name: {:?}", request.uri().path()),
        };
        Box::pin(std::future::ready(Ok(
            Status::unimplemented(message).into_http()
        )))
    }
}

/// `package.Service` of a gRPC path `/package.Service/Method`, split as grpc-go splits it: a
/// leading `/` dropped, then at the last `/` (None without one: a malformed method name).
fn service_name(path: &str) -> Option<&str> {
    let path = path.strip_prefix('/').unwrap_or(path);
    path.rsplit_once('/').map(|(service, _method)| service)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_service_is_what_grpc_go_takes_it_to_be() {
        assert_eq!(
            service_name("/helloworld.Greeter/SayHello"),
            Some("helloworld.Greeter")
        );
        assert_eq!(
            service_name("/grpc.health.v1.Health/Check"),
            Some("grpc.health.v1.Health")
        );
        assert_eq!(service_name("/a/b/c"), Some("a/b"));
        assert_eq!(service_name("//Method"), Some(""));
        assert_eq!(
            service_name("/helloworld.Greeter/"),
            Some("helloworld.Greeter")
        );
        assert_eq!(service_name("x/y"), Some("x"));
        for not_grpc in ["", "/", "/helloworld.Greeter"] {
            assert_eq!(service_name(not_grpc), None, "{not_grpc:?}");
        }
    }
}
