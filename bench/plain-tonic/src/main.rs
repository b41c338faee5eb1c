//! tonic's helloworld server with its defaults: the baseline greeter is compared with.

use std::pin::Pin;

use tonic::transport::Server;
use tonic::transport::server::TcpIncoming;
use tonic::{Request, Response, Status, Streaming};

mod proto {
    tonic::include_proto!("helloworld");
}

use proto::greeter_server::{Greeter, GreeterServer};
use proto::{HelloReply, HelloRequest};

type ReplyStream =
    Pin<Box<dyn tonic::codegen::tokio_stream::Stream<Item = Result<HelloReply, Status>> + Send>>;

#[derive(Default)]
struct MyGreeter;

#[tonic::async_trait]
impl Greeter for MyGreeter {
    async fn say_hello(&self, request: Request<HelloRequest>) -> Result<Response<HelloReply>, Status> {
        Ok(Response::new(HelloReply {
            message: format!("Hello {}", request.into_inner().name),
        }))
    }

    type SayHelloStreamReplyStream = ReplyStream;

    async fn say_hello_stream_reply(&self, _: Request<HelloRequest>) -> Result<Response<ReplyStream>, Status> {
        Err(Status::unimplemented("not in the baseline"))
    }

    type SayHelloBidiStreamStream = ReplyStream;

    async fn say_hello_bidi_stream(
        &self,
        _: Request<Streaming<HelloRequest>>,
    ) -> Result<Response<ReplyStream>, Status> {
        Err(Status::unimplemented("not in the baseline"))
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:0".into()).parse()?;
    let incoming = TcpIncoming::bind(addr)?;
    println!("listening on {}", incoming.local_addr()?);
    Server::builder()
        .add_service(GreeterServer::new(MyGreeter))
        .serve_with_incoming(incoming)
        .await?;
    Ok(())
}
