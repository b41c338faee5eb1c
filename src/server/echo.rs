//! --echo-metadata: each response carries the metadata its call arrived with, so a client sees
//! what the proxies on the way added, changed or stripped.
//!
//! Request header `NAME: VALUE` comes back as `greeter-echo-NAME: VALUE` (every value, in
//! order), with `greeter-authority` (the `:authority` the call was sent to) and `greeter-peer`
//! (the address it came from, as this server saw it: a proxy's, behind one). Credentials come
//! back as `(redacted)`: present, never in clear. Response headers count against the client's
//! header list limit (8 KiB in grpc-core, so Python's and C++'s clients; 16 KiB in hyper's),
//! counted as RFC 7541 does, 32 bytes per header besides its name and value: at most
//! `ECHO_BUDGET` of that is echoed, and `greeter-omitted` says how many headers were left out.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use http::{HeaderMap, HeaderName, HeaderValue, Request, Response};
use tower::{Layer, Service};

pub const PREFIX: &str = "greeter-echo-";
const AUTHORITY: HeaderName = HeaderName::from_static("greeter-authority");
const PEER: HeaderName = HeaderName::from_static("greeter-peer");
/// Outside the echo prefix, so no request header can pass for it.
const OMITTED: HeaderName = HeaderName::from_static("greeter-omitted");
const REDACTED: HeaderValue = HeaderValue::from_static("(redacted)");
/// `(redacted)` in base64, for `-bin` names, whose values clients decode as base64.
const REDACTED_BINARY: HeaderValue = HeaderValue::from_static("KHJlZGFjdGVkKQ");

/// The most echoed per call, counted as clients count their header list limit: half of
/// grpc-core's 8 KiB, leaving room for the response's other headers.
const ECHO_BUDGET: usize = 4 * 1024;
/// What RFC 7541 (and every client's limit) adds to each header's name and value.
const PER_HEADER: usize = 32;

/// Never echoed in clear, whatever --redact says.
const ALWAYS_REDACTED: [&str; 3] = ["authorization", "proxy-authorization", "cookie"];

/// What to echo, for the process's life.
#[derive(Debug)]
pub struct Echo {
    redacted: Vec<HeaderName>,
}

impl Echo {
    /// With `--redact` names besides the credentials; an error names one that is no header
    /// name.
    pub fn new(redact: &[String]) -> Result<Echo, String> {
        let mut redacted: Vec<HeaderName> = ALWAYS_REDACTED
            .iter()
            .map(|name| HeaderName::from_static(name))
            .collect();
        for name in redact
            .iter()
            .map(|name| name.trim())
            .filter(|n| !n.is_empty())
        {
            let name = HeaderName::try_from(name.to_ascii_lowercase())
                .map_err(|_| format!("'{name}' is not a metadata name"))?;
            redacted.push(name);
        }
        Ok(Echo { redacted })
    }

    /// The response headers that echo `request` from `peer`.
    fn headers<B>(&self, request: &Request<B>, peer: &str) -> HeaderMap {
        let mut echoed = HeaderMap::new();
        let authority = request
            .uri()
            .authority()
            .map(|authority| authority.as_str())
            .or_else(|| request.headers().get(http::header::HOST)?.to_str().ok());
        if let Some(value) = authority.and_then(|text| HeaderValue::from_str(text).ok()) {
            echoed.insert(AUTHORITY, value);
        }
        if let Ok(value) = HeaderValue::from_str(peer) {
            echoed.insert(PEER, value);
        }
        let mut budget = ECHO_BUDGET;
        let mut left_out = 0usize;
        for (name, value) in request.headers() {
            let value = match self.redacted.contains(name) {
                true if name.as_str().ends_with("-bin") => REDACTED_BINARY,
                true => REDACTED,
                false => value.clone(),
            };
            let size = PER_HEADER + PREFIX.len() + name.as_str().len() + value.len();
            let Some(left) = budget.checked_sub(size) else {
                left_out += 1;
                continue;
            };
            budget = left;
            // Cannot fail: a header name with a lowercase-token prefix is still a header name.
            let echoed_name = HeaderName::try_from(format!("{PREFIX}{name}"))
                .expect("a prefixed header name is a header name");
            echoed.append(echoed_name, value);
        }
        if left_out > 0 {
            echoed.insert(OMITTED, HeaderValue::from(left_out));
        }
        echoed
    }
}

#[derive(Clone)]
pub struct EchoLayer {
    pub echo: &'static Echo,
    pub peer: Arc<str>,
}

impl<S> Layer<S> for EchoLayer {
    type Service = EchoService<S>;

    fn layer(&self, inner: S) -> EchoService<S> {
        EchoService {
            inner,
            layer: self.clone(),
        }
    }
}

#[derive(Clone)]
pub struct EchoService<S> {
    inner: S,
    layer: EchoLayer,
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for EchoService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = EchoFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        let echoed = self.layer.echo.headers(&request, &self.layer.peer);
        EchoFuture {
            inner: self.inner.call(request),
            echoed: Some(echoed),
        }
    }
}

pin_project_lite::pin_project! {
    pub struct EchoFuture<F> {
        #[pin]
        inner: F,
        echoed: Option<HeaderMap>,
    }
}

impl<F, B, E> Future for EchoFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let mut response = ready!(this.inner.poll(cx))?;
        if let Some(echoed) = this.echoed.take() {
            let headers = response.headers_mut();
            let mut last = None;
            // `extend` would replace, not append, a name's second value.
            for (name, value) in echoed {
                let name = match name {
                    Some(name) => {
                        last = Some(name.clone());
                        name
                    }
                    // Cannot be None first: a HeaderMap's iteration names its first value.
                    None => last.clone().expect("a value follows its name"),
                };
                headers.append(name, value);
            }
        }
        Poll::Ready(Ok(response))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(headers: &[(&str, &str)]) -> Request<()> {
        let mut request = Request::builder()
            .uri("http://greeter.example:50051/helloworld.Greeter/SayHello")
            .body(())
            .unwrap();
        for (name, value) in headers {
            request.headers_mut().append(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        request
    }

    #[test]
    fn every_value_comes_back_and_credentials_redacted() {
        let echo = Echo::new(&["X-Api-Key".to_owned()]).unwrap();
        let echoed = echo.headers(
            &request(&[
                ("x-forwarded-for", "198.18.0.1"),
                ("x-forwarded-for", "198.18.0.2"),
                ("authorization", "Bearer secret"),
                ("cookie", "session=secret"),
                ("x-api-key", "secret"),
                ("traceparent", "00-abc-def-01"),
            ]),
            "127.0.0.1:41000",
        );
        let values = |name: &str| -> Vec<&str> {
            echoed
                .get_all(name)
                .iter()
                .map(|value| value.to_str().unwrap())
                .collect()
        };
        assert_eq!(
            values("greeter-echo-x-forwarded-for"),
            ["198.18.0.1", "198.18.0.2"]
        );
        for secret in ["authorization", "cookie", "x-api-key"] {
            assert_eq!(values(&format!("greeter-echo-{secret}")), ["(redacted)"]);
        }
        assert_eq!(values("greeter-echo-traceparent"), ["00-abc-def-01"]);
        assert_eq!(values("greeter-authority"), ["greeter.example:50051"]);
        assert_eq!(values("greeter-peer"), ["127.0.0.1:41000"]);
        assert!(echoed.get("greeter-omitted").is_none());
    }

    #[test]
    fn at_most_the_budget_is_echoed() {
        let big = "x".repeat(1500);
        let headers: Vec<(String, &str)> = (0..5)
            .map(|i| (format!("x-big-{i}"), big.as_str()))
            .collect();
        let headers: Vec<(&str, &str)> = headers
            .iter()
            .map(|(name, value)| (name.as_str(), *value))
            .collect();
        let echoed = Echo::new(&[]).unwrap().headers(&request(&headers), "unix");
        let kept = (0..5)
            .filter(|i| echoed.contains_key(format!("greeter-echo-x-big-{i}").as_str()))
            .count();
        assert_eq!(kept, 2, "two of 1.5 KiB fit in 4 KiB");
        assert_eq!(echoed["greeter-omitted"], "3");
    }

    #[test]
    fn a_redacted_binary_value_is_still_base64() {
        let echo = Echo::new(&["x-secret-bin".to_owned()]).unwrap();
        let echoed = echo.headers(&request(&[("x-secret-bin", "c2VjcmV0")]), "unix");
        assert_eq!(echoed["greeter-echo-x-secret-bin"], "KHJlZGFjdGVkKQ");
    }

    #[test]
    fn a_redact_name_must_be_a_name() {
        assert!(
            Echo::new(&["bad name".to_owned()])
                .unwrap_err()
                .contains("'bad name'")
        );
    }
}
