//! Replies on stdout: the greeting alone, or one JSON object per reply.

use std::io::{self, Write};

use crate::cli::OutputFormat;
use crate::proto::HelloReply;
use crate::report::print_line;

/// Prints `reply`, which `replica` sent (its `greeter-replica` header, if it had one).
pub fn print_reply(
    reply: &HelloReply,
    replica: Option<&str>,
    format: OutputFormat,
) -> io::Result<()> {
    match format {
        OutputFormat::Text => print_line(&reply.message),
        // The protobuf JSON mapping of HelloReply. The field is printed even when empty, as
        // grpcurl does, so scripts can always read `.message`; `replica` is greeter's own,
        // beside it, and only there when the server named itself.
        OutputFormat::Json => {
            let mut object = serde_json::json!({ "message": reply.message });
            if let Some(replica) = replica {
                object["replica"] = replica.into();
            }
            print_line(&object.to_string())
        }
    }
}

/// The `greeter-replica` header of a response: which replica answered.
pub fn replica(metadata: &tonic::metadata::MetadataMap) -> Option<&str> {
    metadata.get("greeter-replica")?.to_str().ok()
}

/// Response headers or trailers for `-v`, on stderr, one `< name: value` line each.
pub fn print_metadata(metadata: &tonic::metadata::MetadataMap) {
    let headers = metadata.clone().into_headers();
    let mut stderr = io::stderr().lock();
    for (name, value) in &headers {
        let value = value.to_str().unwrap_or("(binary)");
        let _ = writeln!(stderr, "< {name}: {value}");
    }
}
