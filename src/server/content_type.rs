//! Which requests are gRPC, by their `content-type`, and the spec's answer to the others
//! (grpc/grpc `doc/PROTOCOL-HTTP2.md`): HTTP 415 with a gRPC status, as grpc-go answers.

use http::header::CONTENT_TYPE;
use http::{HeaderMap, Response, StatusCode};
use tonic::Status;
use tonic::body::Body;

/// What a request's `content-type` makes of it.
#[derive(Debug, PartialEq, Eq)]
pub enum Kind {
    /// `application/grpc`, optionally `+proto`, `+json`, ... or with parameters.
    Grpc,
    /// `application/grpc-web[-text]`: browsers through a proxy. Not served (yet): refused
    /// like any other non-gRPC request.
    GrpcWeb,
    /// Missing, or anything else.
    NotGrpc,
}

#[inline]
pub fn kind(headers: &HeaderMap) -> Kind {
    let Some(value) = headers.get(CONTENT_TYPE) else {
        return Kind::NotGrpc;
    };
    const GRPC: &[u8] = b"application/grpc";
    let Some((media_type, rest)) = value.as_bytes().split_at_checked(GRPC.len()) else {
        return Kind::NotGrpc;
    };
    if !media_type.eq_ignore_ascii_case(GRPC) {
        return Kind::NotGrpc;
    }
    // grpc-go's rule: the exact type, a `+subtype` or `;parameters`, nothing else.
    match rest {
        [] | [b'+' | b';', ..] => Kind::Grpc,
        rest if rest
            .get(..4)
            .is_some_and(|web| web.eq_ignore_ascii_case(b"-web")) =>
        {
            Kind::GrpcWeb
        }
        _ => Kind::NotGrpc,
    }
}

/// HTTP 415 with INVALID_ARGUMENT naming the content-type that came, trailers-only.
pub fn unsupported(headers: &HeaderMap) -> Response<Body> {
    let given = headers
        .get(CONTENT_TYPE)
        .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned())
        .unwrap_or_default();
    let mut response =
        Status::invalid_argument(format!("invalid gRPC request content-type {given:?}"))
            .into_http::<Body>();
    *response.status_mut() = StatusCode::UNSUPPORTED_MEDIA_TYPE;
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(content_type: Option<&str>) -> Kind {
        let mut headers = HeaderMap::new();
        if let Some(value) = content_type {
            headers.insert(CONTENT_TYPE, value.parse().unwrap());
        }
        kind(&headers)
    }

    #[test]
    fn grpc_and_its_subtypes() {
        for grpc in [
            "application/grpc",
            "application/grpc+proto",
            "application/grpc+json",
            "application/grpc;charset=utf-8",
            "Application/GRPC",
        ] {
            assert_eq!(of(Some(grpc)), Kind::Grpc, "{grpc}");
        }
    }

    #[test]
    fn grpc_web_is_told_apart() {
        for web in ["application/grpc-web", "application/grpc-web-text+proto"] {
            assert_eq!(of(Some(web)), Kind::GrpcWeb, "{web}");
        }
    }

    #[test]
    fn everything_else_is_not_grpc() {
        for other in [
            None,
            Some(""),
            Some("application/json"),
            Some("application/grpcx"),
            Some("application/gr"),
            Some("text/plain"),
        ] {
            assert_eq!(of(other), Kind::NotGrpc, "{other:?}");
        }
    }

    #[test]
    fn the_answer_is_415_with_invalid_argument() {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, "application/json".parse().unwrap());
        let response = unsupported(&headers);
        assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
        assert_eq!(response.headers()["grpc-status"], "3");
        assert_eq!(
            response.headers()["grpc-message"],
            "invalid%20gRPC%20request%20content-type%20%22application/json%22"
        );
        assert_eq!(response.headers()["content-type"], "application/grpc");
    }
}
