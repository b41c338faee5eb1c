//! helloworld.Greeter, answering exactly as grpc-go's greeter_server does.

use tonic::{Request, Response, Status};

use crate::proto::greeter_server;
use crate::proto::{HelloReply, HelloRequest};

/// The Greeter service. It holds no state, so every worker gets its own copy for free.
#[derive(Debug, Default, Clone, Copy)]
pub struct Greeter;

type ReplyStream = tokio_stream::Empty<Result<HelloReply, Status>>;

#[tonic::async_trait]
impl greeter_server::Greeter for Greeter {
    async fn say_hello(
        &self,
        request: Request<HelloRequest>,
    ) -> Result<Response<HelloReply>, Status> {
        Ok(Response::new(greet(&request.into_inner().name)))
    }

    type SayHelloStreamReplyStream = ReplyStream;

    async fn say_hello_stream_reply(
        &self,
        _request: Request<HelloRequest>,
    ) -> Result<Response<ReplyStream>, Status> {
        Err(Status::unimplemented(
            "helloworld.Greeter/SayHelloStreamReply is not served by this version of greeter",
        ))
    }

    type SayHelloBidiStreamStream = ReplyStream;

    async fn say_hello_bidi_stream(
        &self,
        _request: Request<tonic::Streaming<HelloRequest>>,
    ) -> Result<Response<ReplyStream>, Status> {
        Err(Status::unimplemented(
            "helloworld.Greeter/SayHelloBidiStream is not served by this version of greeter",
        ))
    }
}

/// `"Hello " + name`, byte for byte what grpc-go answers: no `!`, and `"Hello "` for an empty
/// name.
fn greet(name: &str) -> HelloReply {
    HelloReply {
        message: format!("Hello {name}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn greets_like_grpc_go() {
        assert_eq!(greet("world").message, "Hello world");
        assert_eq!(greet("").message, "Hello ");
        assert_eq!(greet("Zoë 🌍").message, "Hello Zoë 🌍");
    }
}
