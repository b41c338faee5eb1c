//! What goes into and out of each call's messages: compression (`--compress`) and the size
//! limits (`--max-recv-msg-size`, `--max-send-msg-size`).

use http::Uri;
use tonic::client::Grpc;
use tonic::codec::CompressionEncoding;
use tonic::transport::Channel;
use tonic::{Code, Status};

use super::h2_channel::H2Channel;
use crate::cli::Compression;
use crate::proto::HelloRequest;
use crate::proto::greeter_client::GreeterClient;

/// The message options of `hello`.
#[derive(Debug, Clone, Copy)]
pub struct Messages {
    pub compress: Option<Compression>,
    pub max_recv: usize,
    pub max_send: usize,
}

impl Messages {
    /// A Greeter client on `channel` that sends and accepts messages as asked.
    pub fn client(&self, channel: Channel) -> GreeterClient<Channel> {
        // Replies compressed with either encoding are accepted whatever we send: the server
        // chooses, and one that compresses unasked would otherwise fail the call.
        let client = GreeterClient::new(channel)
            .accept_compressed(CompressionEncoding::Gzip)
            .accept_compressed(CompressionEncoding::Zstd)
            .max_decoding_message_size(self.max_recv)
            .max_encoding_message_size(self.max_send);
        match self.compress {
            Some(Compression::Gzip) => client.send_compressed(CompressionEncoding::Gzip),
            Some(Compression::Zstd) => client.send_compressed(CompressionEncoding::Zstd),
            None => client,
        }
    }

    /// The same for a replica's channel, whose requests go to `origin` (scheme and authority).
    pub fn replica_client(&self, channel: H2Channel, origin: Uri) -> Grpc<H2Channel> {
        let client = Grpc::with_origin(channel, origin)
            .accept_compressed(CompressionEncoding::Gzip)
            .accept_compressed(CompressionEncoding::Zstd)
            .max_decoding_message_size(self.max_recv)
            .max_encoding_message_size(self.max_send);
        match self.compress {
            Some(Compression::Gzip) => client.send_compressed(CompressionEncoding::Gzip),
            Some(Compression::Zstd) => client.send_compressed(CompressionEncoding::Zstd),
            None => client,
        }
    }
}

impl Messages {
    /// A request over --max-send-msg-size fails here, before anything is sent: tonic would
    /// send the call's headers and then reset the stream, which it reports as INTERNAL.
    pub fn check_request(&self, request: &HelloRequest) -> Result<(), Status> {
        let size = prost::Message::encoded_len(request);
        if size > self.max_send {
            return Err(Status::resource_exhausted(format!(
                "the request is {size} bytes, more than --max-send-msg-size {} bytes",
                self.max_send
            )));
        }
        Ok(())
    }

    /// A server that does not know our request's encoding should answer UNIMPLEMENTED (the
    /// gRPC spec, compression.md); grpc-core instead fails to parse the `grpc-encoding` header
    /// (zstd is not in its list) and answers INTERNAL. Either way, say what to do.
    pub fn refused_encoding(&self, status: Status) -> Status {
        let Some(encoding) = self.compress else {
            return status;
        };
        let about_encoding = status.message().contains("grpc-encoding")
            || status.message().to_ascii_lowercase().contains("compress");
        if !matches!(status.code(), Code::Internal | Code::Unimplemented) || !about_encoding {
            return status;
        }
        let name = match encoding {
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
        };
        Status::unimplemented(format!(
            "the server does not accept {name}-compressed requests ({}): use another \
             --compress, or none",
            status.message()
        ))
    }
}

/// tonic's OUT_OF_RANGE for a message over a size limit is RESOURCE_EXHAUSTED (see
/// `crate::status`), with the flag that set the limit.
pub fn over_limit_is_resource_exhausted(status: Status) -> Status {
    if crate::status::is_oversize(status.code(), status.message()) {
        let message = status.message().trim_start_matches("Error, ");
        let hint = if message.starts_with("decoded") {
            "the reply is larger than --max-recv-msg-size"
        } else {
            "the request is larger than --max-send-msg-size"
        };
        return Status::resource_exhausted(format!("{message}: {hint}"));
    }
    status
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tonics_over_limit_status_becomes_resource_exhausted() {
        let tonic = Status::out_of_range(
            "Error, decoded message length too large: found 17 bytes, the limit is: 10 bytes",
        );
        let mapped = over_limit_is_resource_exhausted(tonic);
        assert_eq!(mapped.code(), Code::ResourceExhausted);
        assert_eq!(
            mapped.message(),
            "decoded message length too large: found 17 bytes, the limit is: 10 bytes: the \
             reply is larger than --max-recv-msg-size"
        );
        let other = over_limit_is_resource_exhausted(Status::out_of_range("index 3"));
        assert_eq!(other.code(), Code::OutOfRange);
    }
}
