//! Replies on stdout: the greeting alone, or one JSON object per reply.

use std::io::{self, Write};

use crate::cli::OutputFormat;
use crate::proto::HelloReply;
use crate::report::print_line;

pub fn print_reply(reply: &HelloReply, format: OutputFormat) -> io::Result<()> {
    match format {
        OutputFormat::Text => print_line(&reply.message),
        // The protobuf JSON mapping of HelloReply. The field is printed even when empty, as
        // grpcurl does, so scripts can always read `.message`.
        OutputFormat::Json => {
            print_line(&serde_json::json!({ "message": reply.message }).to_string())
        }
    }
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
