//! Replies on stdout: the greeting alone, or one JSON object per reply.

use std::collections::BTreeMap;
use std::io::{self, Write};

use http::HeaderName;
use tonic::metadata::KeyAndValueRef;

use super::headers::Headers;
use crate::cli::OutputFormat;
use crate::proto::HelloReply;
use crate::report::print_line;

/// What a `greeter serve` said of a call in its response headers, besides the reply.
#[derive(Debug, Default)]
pub struct Seen {
    /// `greeter-replica`: which replica answered.
    pub replica: Option<String>,
    /// `greeter-fault`: what was injected into the call (`delay=50ms`).
    pub fault: Option<String>,
    /// With `serve --echo-metadata`: what the call arrived with.
    pub echo: Option<Echoed>,
}

/// The metadata a call arrived with, as the server echoed it.
#[derive(Debug, Default)]
pub struct Echoed {
    pub authority: Option<String>,
    pub peer: Option<String>,
    /// Headers the server left out of the echo (`greeter-omitted`), over its budget.
    pub omitted: Option<u64>,
    /// Each name's values, in order; binary (`-bin`) values as sent, in base64.
    pub metadata: BTreeMap<String, Vec<String>>,
}

impl Seen {
    pub fn of(metadata: &tonic::metadata::MetadataMap) -> Seen {
        let text = |name: &str| Some(metadata.get(name)?.to_str().ok()?.to_owned());
        let mut echo = Echoed::default();
        let mut echoed = false;
        for entry in metadata.iter() {
            let (name, value) = match entry {
                KeyAndValueRef::Ascii(name, value) => (name.as_str(), value.to_str().ok()),
                KeyAndValueRef::Binary(name, value) => (
                    name.as_str(),
                    std::str::from_utf8(value.as_encoded_bytes()).ok(),
                ),
            };
            let Some(echoed_name) = name.strip_prefix(ECHO_PREFIX) else {
                continue;
            };
            echoed = true;
            let values = echo.metadata.entry(echoed_name.to_owned()).or_default();
            values.push(value.unwrap_or("(binary)").to_owned());
        }
        echo.authority = text("greeter-authority");
        echo.peer = text("greeter-peer");
        echo.omitted = text("greeter-omitted").and_then(|count| count.parse().ok());
        let echo = (echoed || echo.authority.is_some() || echo.peer.is_some()).then_some(echo);
        Seen {
            replica: text("greeter-replica"),
            fault: text("greeter-fault"),
            echo,
        }
    }
}

const ECHO_PREFIX: &str = "greeter-echo-";

/// Prints `reply`, with what its server said of the call in JSON.
pub fn print_reply(reply: &HelloReply, seen: &Seen, format: OutputFormat) -> io::Result<()> {
    match format {
        OutputFormat::Text => print_line(&reply.message),
        // The protobuf JSON mapping of HelloReply. The field is printed even when empty, as
        // grpcurl does, so scripts can always read `.message`; the rest is greeter's own,
        // beside it, and only there when the server said it.
        OutputFormat::Json => {
            let mut object = serde_json::json!({ "message": reply.message });
            if let Some(replica) = &seen.replica {
                object["replica"] = replica.as_str().into();
            }
            if let Some(fault) = &seen.fault {
                object["fault"] = fault.as_str().into();
            }
            if let Some(echo) = &seen.echo {
                object["echo"] = serde_json::json!({
                    "authority": echo.authority,
                    "peer": echo.peer,
                    "metadata": echo.metadata,
                    "omitted": echo.omitted.unwrap_or(0),
                });
            }
            print_line(&object.to_string())
        }
    }
}

/// The `greeter-replica` header of a response: which replica answered.
pub fn replica(metadata: &tonic::metadata::MetadataMap) -> Option<&str> {
    // A name given as a string would be parsed on every call of a repeated run.
    const REPLICA: HeaderName = HeaderName::from_static("greeter-replica");
    metadata.as_ref().get(&REPLICA)?.to_str().ok()
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

/// A call that asked for a fault (`-H greeter-fault-status: ...`) from a greeter server that
/// did not inject it: a server without --allow-request-faults ignores such metadata without a
/// word (looking for it would cost every call), so the client says why nothing happened.
pub fn warn_if_fault_ignored(headers: &Headers, metadata: &tonic::metadata::MetadataMap) {
    if metadata.get("greeter-replica").is_none() {
        return; // Not a greeter server: it knows nothing of faults.
    }
    let injected = metadata
        .get("greeter-fault")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    if injected == "refused" {
        return; // Heard and refused (INVALID_ARGUMENT says why), not ignored.
    }
    let ignored = [
        ("greeter-fault-status", "status="),
        ("greeter-fault-delay", "delay="),
    ]
    .iter()
    .find(|(name, kind)| headers.contains(name) && !injected.contains(kind));
    if let Some((name, _)) = ignored {
        let _ = writeln!(
            io::stderr(),
            "warning: the server ignored {name}: start `greeter serve` with \
             --allow-request-faults to honour it"
        );
    }
}
