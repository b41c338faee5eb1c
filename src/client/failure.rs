//! How a failed call is named: the status gRPC (and grpc-go) would report for what tonic
//! reported, and the one-line message that says which method, on which target, failed how.

use std::time::Duration;

use tonic::{Code, Status};

use super::call::Method;
use super::diagnosis::{self, DialFailed, Trouble, Troubles, carried};
use super::grpc_client::{self, Messages};
use super::h2_channel::Http2Failure;
use crate::address::Targets;
use crate::exit::CallFailed;

/// The status gRPC (and grpc-go) would report for what tonic reported as `status`.
pub fn as_grpc_says(status: Status, troubles: &Troubles, messages: &Messages) -> Status {
    if let Some(refused) = refused_by_goaway(&status) {
        return refused;
    }
    let status = messages.refused_encoding(status);
    let status = grpc_client::over_limit_is_resource_exhausted(status);
    let status = http_error_is_its_grpc_status(status);
    connection_lost_is_unavailable(status, troubles)
}

/// How tonic words a response whose body is not gRPC messages, and the HTTP status it had.
const NOT_GRPC_BODY: &str = "while receiving response with status: ";

/// A proxy with no healthy backend answers HTTP 503 with an HTML page: tonic reads the page as
/// a gRPC message and reports INTERNAL ("invalid compression flag: 60", the `<`). The spec's
/// HTTP-to-gRPC mapping (doc/http-grpc-status-mapping.md), which grpc-go and tonic itself
/// apply to a body-less answer, says UNAVAILABLE (so --retries retries it), and the message
/// says what really came back.
fn http_error_is_its_grpc_status(status: Status) -> Status {
    // tonic's own words for a body it could not read, on a response that was not gRPC: a
    // server's grpc-message quoting them, on a gRPC response, is left as the server sent it.
    let grpc_response = status
        .metadata()
        .get("content-type")
        .and_then(|value| value.to_str().ok())
        .is_some_and(|content_type| content_type.starts_with("application/grpc"));
    if status.code() != Code::Internal
        || grpc_response
        || !status.message().starts_with("protocol error: ")
    {
        return status;
    }
    let Some((_, http)) = status.message().split_once(NOT_GRPC_BODY) else {
        return status;
    };
    let number = http.split_whitespace().next().unwrap_or_default();
    let code = match number {
        "400" => Code::Internal,
        "401" => Code::Unauthenticated,
        "403" => Code::PermissionDenied,
        "404" => Code::Unimplemented,
        "429" | "502" | "503" | "504" => Code::Unavailable,
        "200" => return status, // gRPC's own status line: the body really was malformed.
        _ => Code::Unknown,
    };
    Status::new(
        code,
        format!(
            "the server answered HTTP {}, not gRPC: a proxy with no healthy backend, or no \
             gRPC server behind this address",
            http.trim()
        ),
    )
}

/// A connection that broke under a call reaches tonic as UNKNOWN ("transport error"), as
/// CANCELLED (hyper, or the replicas' h2 channel, gave up the request) or as UNAVAILABLE with a raw OS message; gRPC (and
/// grpc-go) call all of them UNAVAILABLE, which is also what --retries retries. A status the
/// server sent, or a deadline, has no transport error behind it and is left alone.
///
/// The connector's errors carry their own one-line account ([`DialFailed`], [`Trouble`]); once
/// a connection is made, h2 passes the cause on as text only, so what the transport recorded (a
/// TLS alert after the handshake, a TLS server answering plaintext) is taken from `troubles`.
fn connection_lost_is_unavailable(status: Status, troubles: &Troubles) -> Status {
    if !matches!(
        status.code(),
        Code::Unknown | Code::Unavailable | Code::Cancelled
    ) {
        return status;
    }
    let chain: Vec<&(dyn std::error::Error + 'static)> =
        std::iter::successors(std::error::Error::source(&status), |err| err.source()).collect();
    let transport = chain.iter().any(|err| {
        err.is::<hyper::Error>() || err.is::<Http2Failure>() || err.is::<std::io::Error>()
    });
    if !transport {
        return status;
    }
    // The connector's own words: a connection that could not be made, or TLS that failed.
    if let Some(dial) = carried::<DialFailed>(&status) {
        return Status::unavailable(dial.0.clone());
    }
    if let Some(trouble) = carried::<Trouble>(&status) {
        // A closed-silently trouble is a hint to a main clause; alone, it needs one.
        if trouble.closed_silently.is_some() {
            return Status::unavailable(format!(
                "the server closed the connection before answering {trouble}"
            ));
        }
        return Status::unavailable(trouble.message.clone());
    }
    let mut causes: Vec<String> = Vec::new();
    for err in &chain {
        let text = match err.downcast_ref::<std::io::Error>() {
            Some(io) => crate::report::describe_io(io),
            None => err.to_string(),
        };
        if !causes.contains(&text) {
            causes.push(text);
        }
    }
    // A server that closed before answering is a `Trouble` the sniffer recorded; a reset
    // without one came after the server had answered HTTP/2 on the connection: it went away.
    let reset = chain.iter().any(|err| {
        let io = err
            .downcast_ref::<std::io::Error>()
            .or_else(|| err.downcast_ref::<h2::Error>().and_then(h2::Error::get_io));
        io.is_some_and(|io| {
            matches!(
                io.kind(),
                std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::BrokenPipe
            )
        })
    });
    // An HTTP/1 server or a TLS port answers the HTTP/2 preface with bytes h2 cannot parse,
    // or by closing: both end here.
    // A reset is the server's own doing, answered or not: a silent close recorded meanwhile
    // (by this connection, or by another the run opened) adds its TLS hint below, but no
    // protocol mix-up is suggested.
    let generic = if reset {
        let after = if troubles.peek_is_none() {
            " after answering"
        } else {
            ""
        };
        format!(
            "the connection broke: {}: the server reset it{after} (did it stop or restart?)",
            causes.join(": ")
        )
    } else {
        format!(
            "the connection broke: {}; is --addr a gRPC server's port, speaking plaintext \
             HTTP/2?",
            causes.join(": ")
        )
    };
    match troubles.take() {
        Some(trouble) if trouble.closed_silently.is_some() => {
            let message = format!("{generic} {trouble}");
            // Kept for `tls_behind_silence`, which may ask the server whether it speaks TLS.
            troubles.record(trouble);
            Status::unavailable(message)
        }
        Some(trouble) => Status::unavailable(trouble.message),
        None => Status::unavailable(generic),
    }
}

/// A server that let no stream in (a GOAWAY whose last stream is 0, as `greeter serve` sends
/// beyond --max-connections) never saw the call: UNAVAILABLE, as gRPC's transparent retry
/// treats it, with the reason the server gave. tonic would say RESOURCE_EXHAUSTED or
/// INTERNAL from the GOAWAY's code, and drop the reason.
fn refused_by_goaway(status: &Status) -> Option<Status> {
    let chain = std::iter::successors(std::error::Error::source(status), |err| err.source());
    let goaway = chain
        .filter_map(|err| err.downcast_ref::<h2::Error>())
        .find(|err| err.is_go_away() && err.is_remote())?;
    let reason = goaway
        .reason()
        .map_or_else(String::new, |reason| format!("{reason:?}"));
    // h2 shows the debug data only in its Display: `... (b"the reason")`.
    let shown = goaway.to_string();
    let why = shown
        .split_once("(b\"")
        .and_then(|(_, rest)| rest.strip_suffix("\")"))
        .unwrap_or_default();
    Some(Status::unavailable(diagnosis::refused_by_goaway(
        &reason, why,
    )))
}

/// tonic reports its own enforcement of the deadline as CANCELLED caused by `TimeoutExpired`;
/// for the user (and grpc-go) that is DEADLINE_EXCEEDED.
pub fn is_deadline(status: &Status) -> bool {
    match status.code() {
        Code::DeadlineExceeded => true,
        Code::Cancelled => {
            let mut source = std::error::Error::source(status);
            while let Some(err) = source {
                if err.is::<tonic::TimeoutExpired>() {
                    return true;
                }
                source = err.source();
            }
            false
        }
        _ => false,
    }
}

pub fn deadline_exceeded(target: &Targets, timeout: Duration) -> CallFailed {
    CallFailed::new(
        Code::DeadlineExceeded,
        format!(
            "no reply from {target} within {} (DEADLINE_EXCEEDED): is the server overloaded? \
             Raise --timeout to wait longer",
            humantime::format_duration(timeout)
        ),
    )
}

pub fn status_failure(target: &Targets, method: Method, status: &Status) -> CallFailed {
    let code = crate::exit::code_name(status.code());
    let method = method.name();
    let message = match status.message() {
        "" => format!("{method} on {target} failed with {code}"),
        detail => format!("{method} on {target} failed with {code}: {detail}"),
    };
    CallFailed::new(status.code(), message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_http_error_page_gets_the_status_the_spec_maps_it_to() {
        let page = |http: &str| {
            Status::internal(format!(
                "protocol error: received message with invalid compression flag: 60 (valid \
                 flags are 0 and 1) while receiving response with status: {http}"
            ))
        };
        let mapped = http_error_is_its_grpc_status(page("503 Service Unavailable"));
        assert_eq!(mapped.code(), Code::Unavailable);
        assert!(
            mapped
                .message()
                .starts_with("the server answered HTTP 503 Service Unavailable, not gRPC"),
            "{mapped:?}"
        );
        for (http, code) in [
            ("502 Bad Gateway", Code::Unavailable),
            ("404 Not Found", Code::Unimplemented),
            ("403 Forbidden", Code::PermissionDenied),
            ("401 Unauthorized", Code::Unauthenticated),
            ("500 Internal Server Error", Code::Unknown),
        ] {
            assert_eq!(
                http_error_is_its_grpc_status(page(http)).code(),
                code,
                "{http}"
            );
        }
        let malformed_grpc = page("200 OK");
        assert_eq!(
            http_error_is_its_grpc_status(malformed_grpc.clone()).message(),
            malformed_grpc.message()
        );
        // A gRPC server's own INTERNAL that quotes tonic's words keeps its code and message.
        let mut metadata = tonic::metadata::MetadataMap::new();
        metadata.insert("content-type", "application/grpc".parse().unwrap());
        let quoted = page("503 Service Unavailable");
        let relayed = Status::with_metadata(Code::Internal, quoted.message(), metadata);
        assert_eq!(
            http_error_is_its_grpc_status(relayed).code(),
            Code::Internal
        );
        let other = Status::internal("something else");
        assert_eq!(
            http_error_is_its_grpc_status(other).message(),
            "something else"
        );
    }
}
