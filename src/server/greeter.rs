//! helloworld.Greeter, answering exactly as grpc-go's greeter_server does.

use std::pin::Pin;
use std::time::Duration;

use tokio_stream::{Stream, StreamExt as _};
use tonic::{Request, Response, Status, Streaming};

use crate::proto::greeter_server;
use crate::proto::{HelloReply, HelloRequest};

/// The Greeter service. It holds only its settings, so every worker gets its own copy.
#[derive(Debug, Clone, Copy)]
pub struct Greeter {
    /// How many replies SayHelloStreamReply sends.
    pub stream_count: u32,
    /// The pause between two of them.
    pub stream_interval: Duration,
}

type ReplyStream = Pin<Box<dyn Stream<Item = Result<HelloReply, Status>> + Send>>;

#[tonic::async_trait]
impl greeter_server::Greeter for Greeter {
    async fn say_hello(
        &self,
        request: Request<HelloRequest>,
    ) -> Result<Response<HelloReply>, Status> {
        Ok(Response::new(greet(&request.into_inner().name)))
    }

    type SayHelloStreamReplyStream = ReplyStream;

    /// `stream_count` replies, "Hello " + name each, the first at once and the others
    /// `stream_interval` apart.
    async fn say_hello_stream_reply(
        &self,
        request: Request<HelloRequest>,
    ) -> Result<Response<ReplyStream>, Status> {
        let name = request.into_inner().name;
        let Greeter {
            stream_count,
            stream_interval,
        } = *self;
        let replies = futures_util::stream::unfold(0, move |sent| {
            let reply = greet(&name);
            async move {
                if sent == stream_count {
                    return None;
                }
                // No timer at all for no pause: `--stream-interval 0s` streams flat out.
                if sent > 0 && !stream_interval.is_zero() {
                    tokio::time::sleep(stream_interval).await;
                }
                // Cannot overflow: `sent` is below stream_count, a u32, here.
                Some((Ok(reply), sent + 1))
            }
        });
        Ok(Response::new(Box::pin(replies)))
    }

    type SayHelloBidiStreamStream = ReplyStream;

    /// One reply per name received, as each arrives; ends when the client's stream does.
    async fn say_hello_bidi_stream(
        &self,
        request: Request<Streaming<HelloRequest>>,
    ) -> Result<Response<ReplyStream>, Status> {
        let replies = request
            .into_inner()
            .map(|received| received.map(|request| greet(&request.name)));
        Ok(Response::new(Box::pin(replies)))
    }
}

/// `"Hello " + name`, byte for byte what grpc-go answers: no `!`, and `"Hello "` for an empty
/// name.
fn greet(name: &str) -> HelloReply {
    HelloReply {
        message: ["Hello ", name].concat(),
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
