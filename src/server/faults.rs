//! Faults on demand, for testing what sits between a client and this server: retry policies,
//! timeouts, outlier detection. Off unless a flag turns them on.
//!
//! - **Server-wide**, on Greeter calls only (health and reflection stay honest, so probes do not
//!   pull a replica that is only pretending): --fault-delay and --fault-status, each a
//!   distribution drawn per call from one random sequence (--fault-seed makes it repeatable).
//! - **Asked for by a call**, only with --allow-request-faults: `greeter-fault-delay: 200ms` and
//!   `greeter-fault-status: UNAVAILABLE` in its metadata, on any method (a call that asks is
//!   the test). Without the flag they are ignored, and logged once so the tester learns why.
//!   With no fault flag at all this layer is not in the stack (see `opening`): a server that
//!   injects nothing pays nothing, and `greeter hello` tells its user the metadata was ignored.
//!
//! A delay holds the call before its handler runs, and never past the call's deadline: when the
//! deadline comes first the call ends DEADLINE_EXCEEDED then, as a slow handler's would (and
//! that status counts as injected). A faulted response carries `greeter-fault` (what was
//! injected), and the request's `FaultNote` tells `observe` to count and log it as injected
//! rather than real, also when the client gives up first.

pub mod spec;

use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use http::{HeaderMap, HeaderName, HeaderValue, Request, Response};
use tokio::time::{Instant, Sleep};
use tonic::Code;
use tower::{Layer, Service};

use super::conformance::{
    ConformingBody, GRPC_MESSAGE, GRPC_STATUS, deadline_exceeded, grpc_deadline, trailers_only,
};
use super::content_type;
use crate::exit::code_name;
use spec::Weighted;

const FAULT_DELAY: HeaderName = HeaderName::from_static("greeter-fault-delay");
const FAULT_STATUS: HeaderName = HeaderName::from_static("greeter-fault-status");
/// On a faulted response: what was injected, e.g. `status=UNAVAILABLE` or `delay=50ms`.
const GREETER_FAULT: HeaderName = HeaderName::from_static("greeter-fault");
const INVALID_ARGUMENT: HeaderValue = HeaderValue::from_static("3");

/// The longest delay a call may ask for: long enough to outlast any client's timeout worth
/// testing, short enough that a typo cannot hold a call for an hour.
pub const MAX_REQUEST_DELAY: Duration = Duration::from_secs(60);

/// What was injected into a call, put in its response's extensions for `observe`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Injected {
    pub delay: Option<Duration>,
    pub status: Option<Code>,
}

impl Injected {
    fn any(self) -> bool {
        self.delay.is_some() || self.status.is_some()
    }

    /// `delay=50ms status=UNAVAILABLE`: the access log's `fault` and the `greeter-fault` header.
    pub fn describe(self) -> String {
        // Milliseconds as one token (`1500ms`, `0.5ms`): humantime's `1s 500ms` has a space,
        // and the parts are space-separated.
        let delay = self
            .delay
            .map(|delay| format!("delay={}ms", delay.as_secs_f64() * 1000.0));
        let status = self
            .status
            .map(|code| format!("status={}", code_name(code)));
        delay
            .into_iter()
            .chain(status)
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Where a call's faults are noted for `observe`, which puts one in the request's extensions
/// when the fault layer is in the stack: noted when they are decided, so a call the client
/// gives up on during its delay is still counted and logged as faulted.
#[derive(Clone, Default)]
pub struct FaultNote(Arc<Mutex<Option<Injected>>>);

impl FaultNote {
    fn set(&self, injected: Injected) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Some(injected);
    }

    pub fn get(&self) -> Option<Injected> {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The faults of this server, shared by every worker for the process's life.
pub struct Faults {
    pub delays: Vec<Weighted<Duration>>,
    pub statuses: Vec<Weighted<Code>>,
    pub allow_request_faults: bool,
    /// One sequence for every worker, so a seed gives the same draws in the same order.
    rng: Mutex<fastrand::Rng>,
    /// Whether the ignored request metadata has been logged.
    warned: AtomicBool,
}

impl Faults {
    pub fn new(
        delays: Vec<Weighted<Duration>>,
        statuses: Vec<Weighted<Code>>,
        allow_request_faults: bool,
        seed: Option<u64>,
    ) -> Self {
        Faults {
            delays,
            statuses,
            allow_request_faults,
            rng: Mutex::new(seed.map_or_else(fastrand::Rng::new, fastrand::Rng::with_seed)),
            warned: AtomicBool::new(false),
        }
    }

    /// Whether any fault flag is on: without one, the layer is not even in the stack (and
    /// greeter-fault-* metadata is ignored without a word: `hello` says so, client side).
    pub fn any(&self) -> bool {
        self.server_wide() || self.allow_request_faults
    }

    /// Whether a server-wide fault is on.
    pub fn server_wide(&self) -> bool {
        !self.delays.is_empty() || !self.statuses.is_empty()
    }

    /// The server-wide faults of one Greeter call.
    fn draw(&self) -> Injected {
        if !self.server_wide() {
            return Injected::default();
        }
        // A panic elsewhere cannot leave a random generator inconsistent.
        let mut rng = self.rng.lock().unwrap_or_else(PoisonError::into_inner);
        let delay = roll(&mut rng, &self.delays);
        let status = roll(&mut rng, &self.statuses);
        Injected { delay, status }
    }

    /// The faults a call asks for in its metadata; an error names a value that is not one.
    fn asked(&self, headers: &HeaderMap) -> Result<Injected, String> {
        if !self.allow_request_faults {
            // Once logged, the metadata is not even looked at.
            if !self.warned.load(Ordering::Relaxed)
                && (headers.contains_key(FAULT_DELAY) || headers.contains_key(FAULT_STATUS))
                && !self.warned.swap(true, Ordering::Relaxed)
            {
                tracing::warn!(
                    "a call asked for a fault (greeter-fault-delay or greeter-fault-status) and \
                     was served as usual: start the server with --allow-request-faults to \
                     honour such requests (logged once)"
                );
            }
            return Ok(Injected::default());
        }
        let text = |name: &HeaderName| {
            headers.get(name).map(|value| {
                value
                    .to_str()
                    .map_err(|_| format!("{name}: not printable ASCII"))
            })
        };
        let delay = match text(&FAULT_DELAY).transpose()? {
            None => None,
            Some(value) => match crate::cli::parse_duration_or_zero(value) {
                Ok(delay) if delay <= MAX_REQUEST_DELAY => Some(delay),
                Ok(_) => {
                    return Err(format!(
                        "{FAULT_DELAY}: {value} is longer than the {}s a call may ask for",
                        MAX_REQUEST_DELAY.as_secs()
                    ));
                }
                Err(err) => return Err(format!("{FAULT_DELAY}: {err}")),
            },
        };
        let status = text(&FAULT_STATUS)
            .transpose()?
            .map(|value| spec::status(value).map_err(|err| format!("{FAULT_STATUS}: {err}")))
            .transpose()?;
        Ok(Injected { delay, status })
    }
}

/// One draw from `choices`, or none when it is empty: a flag not given takes nothing from the
/// sequence.
fn roll<T: Copy>(rng: &mut fastrand::Rng, choices: &[Weighted<T>]) -> Option<T> {
    if choices.is_empty() {
        return None;
    }
    spec::pick(choices, rng.u32(..spec::ALL))
}

#[derive(Clone, Copy)]
pub struct FaultLayer {
    pub faults: &'static Faults,
    pub replica: &'static HeaderValue,
}

impl<S> Layer<S> for FaultLayer {
    type Service = FaultService<S>;

    fn layer(&self, inner: S) -> FaultService<S> {
        FaultService {
            inner,
            layer: *self,
        }
    }
}

#[derive(Clone)]
pub struct FaultService<S> {
    inner: S,
    layer: FaultLayer,
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for FaultService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ConformingBody<ResBody>>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = FaultFuture<S::Future, ResBody>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        let faults = self.layer.faults;
        let replica = self.layer.replica;
        // What is not gRPC gets the answer of `routes` (415), never a gRPC fault.
        if content_type::kind(request.headers()) != content_type::Kind::Grpc {
            return FaultFuture::passthrough(self.inner.call(request), replica);
        }
        let asked = match faults.asked(request.headers()) {
            Ok(asked) => asked,
            Err(reason) => return FaultFuture::answer(invalid_argument(&reason), replica),
        };
        let greeter = request.uri().path().starts_with("/helloworld.Greeter/");
        let drawn = if greeter {
            faults.draw()
        } else {
            Injected::default()
        };
        // What the call asked for wins over what the server drew, fault by fault.
        let injected = Injected {
            delay: asked.delay.or(drawn.delay),
            status: asked.status.or(drawn.status),
        };
        if !injected.any() {
            return FaultFuture::passthrough(self.inner.call(request), replica);
        }
        let note = request.extensions().get::<FaultNote>().cloned();
        if let Some(note) = &note {
            note.set(injected);
        }
        let delay = injected.delay.map(|delay| {
            let until = Instant::now().checked_add(delay);
            let deadline = grpc_deadline(request.headers());
            match (until, deadline) {
                (Some(until), Some(deadline)) if deadline < until => (deadline, true),
                (Some(until), _) => (until, false),
                // A delay past the clock's range ends at the deadline, or never.
                (None, Some(deadline)) => (deadline, true),
                (None, None) => (Instant::now() + MAX_REQUEST_DELAY, false),
            }
        });
        // An injected status answers without the handler: it never sees the call.
        let inner = injected.status.is_none().then(|| self.inner.call(request));
        FaultFuture {
            inner,
            answer: injected.status.map(injected_status),
            delay: delay.map(|(until, _)| Box::pin(tokio::time::sleep_until(until))),
            cut_by_deadline: delay.is_some_and(|(_, cut)| cut),
            injected,
            note,
            replica,
            _body: PhantomData,
        }
    }
}

/// The request metadata asked for a fault in words this server does not take; the response
/// says `greeter-fault: refused`, so `greeter hello` does not take it for ignored.
fn invalid_argument(reason: &str) -> HeaderMap {
    let mut trailers = HeaderMap::with_capacity(3);
    trailers.insert(GRPC_STATUS, INVALID_ARGUMENT);
    trailers.insert(GRPC_MESSAGE, grpc_message(reason));
    trailers.insert(GREETER_FAULT, HeaderValue::from_static("refused"));
    trailers
}

/// `text` as a grpc-message value: percent-encoded as the spec's PROTOCOL-HTTP2 asks.
fn grpc_message(text: &str) -> HeaderValue {
    let encoded: String = text
        .bytes()
        .map(|byte| match byte {
            b' '..=b'~' if byte != b'%' => char::from(byte).to_string(),
            _ => format!("%{byte:02X}"),
        })
        .collect();
    // Cannot fail: every byte is now printable ASCII.
    HeaderValue::from_str(&encoded).expect("percent-encoded text is a header value")
}

/// The trailers of an injected status, saying it was injected so no one takes it for real.
fn injected_status(code: Code) -> HeaderMap {
    let mut trailers = HeaderMap::with_capacity(2);
    trailers.insert(GRPC_STATUS, HeaderValue::from(code as i32));
    trailers.insert(
        GRPC_MESSAGE,
        HeaderValue::from_static("injected by greeter serve (a test fault)"),
    );
    trailers
}

pin_project_lite::pin_project! {
    /// The handler's response, after the delay if there is one; or a status of this layer's.
    pub struct FaultFuture<F, B> {
        // None when `answer` is the status: the handler never sees the call.
        #[pin]
        inner: Option<F>,
        // The injected status, or the refusal of malformed fault metadata.
        answer: Option<HeaderMap>,
        delay: Option<Pin<Box<Sleep>>>,
        // The delay ends at the call's deadline, not after its whole length.
        cut_by_deadline: bool,
        injected: Injected,
        // Where `observe` reads what was injected, if it is watching.
        note: Option<FaultNote>,
        replica: &'static HeaderValue,
        _body: PhantomData<fn() -> B>,
    }
}

impl<F, B> FaultFuture<F, B> {
    /// The handler's response, as it comes.
    fn passthrough(inner: F, replica: &'static HeaderValue) -> Self {
        Self::without_faults(Some(inner), None, replica)
    }

    /// `status` at once, without the handler.
    fn answer(status: HeaderMap, replica: &'static HeaderValue) -> Self {
        Self::without_faults(None, Some(status), replica)
    }

    fn without_faults(
        inner: Option<F>,
        answer: Option<HeaderMap>,
        replica: &'static HeaderValue,
    ) -> Self {
        FaultFuture {
            inner,
            answer,
            delay: None,
            cut_by_deadline: false,
            injected: Injected::default(),
            note: None,
            replica,
            _body: PhantomData,
        }
    }
}

impl<F, B, E> Future for FaultFuture<F, B>
where
    F: Future<Output = Result<Response<ConformingBody<B>>, E>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        if let Some(delay) = this.delay.as_mut() {
            ready!(delay.as_mut().poll(cx));
            *this.delay = None;
            if *this.cut_by_deadline {
                // The deadline ended the call, not an injected status it may also have had:
                // DEADLINE_EXCEEDED is what the delay caused, and is counted as injected.
                this.answer.replace(deadline_exceeded());
                this.inner.set(None);
                this.injected.status = Some(Code::DeadlineExceeded);
                if let Some(note) = this.note.as_ref() {
                    note.set(*this.injected);
                }
            }
        }
        let mut response = match (this.answer.take(), this.inner.as_pin_mut()) {
            (Some(status), _) => trailers_only(status, this.replica),
            (None, Some(inner)) => ready!(inner.poll(cx))?,
            // Polled again after it answered: futures may not be, but answer something true.
            (None, None) => trailers_only(deadline_exceeded(), this.replica),
        };
        let injected = *this.injected;
        if injected.any() {
            // Cannot fail: the description is ASCII words, digits, `.` and `=`.
            let described =
                HeaderValue::from_str(&injected.describe()).expect("an ASCII description");
            response.headers_mut().insert(GREETER_FAULT, described);
        }
        Poll::Ready(Ok(response))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn faults(delays: &str, statuses: &str, seed: u64) -> Faults {
        let delays = if delays.is_empty() {
            vec![]
        } else {
            spec::delays(delays).unwrap()
        };
        let statuses = if statuses.is_empty() {
            vec![]
        } else {
            spec::statuses(statuses).unwrap()
        };
        Faults::new(delays, statuses, false, Some(seed))
    }

    #[test]
    fn a_seed_gives_the_same_draws() {
        let draws = |seed| {
            let faults = faults("10ms:50%", "UNAVAILABLE:20%", seed);
            (0..200).map(|_| faults.draw()).collect::<Vec<_>>()
        };
        assert_eq!(draws(1), draws(1));
        assert_ne!(draws(1), draws(2));
    }

    #[test]
    fn draws_follow_the_shares() {
        let faults = faults("", "UNAVAILABLE:20%", 7);
        let failed = (0..10_000)
            .filter(|_| faults.draw().status == Some(Code::Unavailable))
            .count();
        // 2000 expected; the binomial's standard deviation is 40, and this is 5 of them.
        assert!((1800..=2200).contains(&failed), "{failed}");
    }

    #[test]
    fn nothing_is_drawn_without_a_fault_flag() {
        let faults = faults("", "", 1);
        assert!(!faults.server_wide());
        assert_eq!(faults.draw(), Injected::default());
    }

    #[test]
    fn request_metadata_is_read_only_when_allowed() {
        let mut headers = HeaderMap::new();
        headers.insert(FAULT_STATUS, HeaderValue::from_static("unavailable"));
        headers.insert(FAULT_DELAY, HeaderValue::from_static("20ms"));
        assert_eq!(faults("", "", 1).asked(&headers), Ok(Injected::default()));
        let allowed = Faults::new(vec![], vec![], true, None);
        assert_eq!(
            allowed.asked(&headers),
            Ok(Injected {
                delay: Some(Duration::from_millis(20)),
                status: Some(Code::Unavailable),
            })
        );
        headers.insert(FAULT_DELAY, HeaderValue::from_static("2m"));
        assert!(
            allowed
                .asked(&headers)
                .unwrap_err()
                .contains("longer than the 60s")
        );
        headers.insert(FAULT_DELAY, HeaderValue::from_static("1ms"));
        headers.insert(FAULT_STATUS, HeaderValue::from_static("OK"));
        assert!(
            allowed
                .asked(&headers)
                .unwrap_err()
                .contains("greeter-fault-status")
        );
    }

    #[test]
    fn descriptions_name_each_fault() {
        let both = Injected {
            delay: Some(Duration::from_millis(50)),
            status: Some(Code::Unavailable),
        };
        assert_eq!(both.describe(), "delay=50ms status=UNAVAILABLE");
        let odd = Injected {
            delay: Some(Duration::from_micros(1500)),
            status: None,
        };
        assert_eq!(odd.describe(), "delay=1.5ms", "one token, no space");
        assert_eq!(grpc_message("50% off: ü"), "50%25 off: %C3%BC");
    }
}
