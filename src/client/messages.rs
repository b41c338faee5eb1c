//! What goes into and out of each call's messages: compression (`--compress`) and the size
//! limits (`--max-recv-msg-size`, `--max-send-msg-size`).

use tonic::codec::CompressionEncoding;
use tonic::transport::Channel;
use tonic::{Code, Status};

use crate::cli::Compression;
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
}

/// tonic reports a message over a size limit as OUT_OF_RANGE; the gRPC spec (and grpc-go)
/// says RESOURCE_EXHAUSTED, which is what scripts check for (exit 72).
pub fn over_limit_is_resource_exhausted(status: Status) -> Status {
    if status.code() == Code::OutOfRange && status.message().contains("message length too large") {
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
