//! A channel's connection made again after it broke, as gRPC channels do it: the first attempt
//! at once, then pauses that grow after each failed one (the pauses of `retry`: --retry-backoff,
//! doubling up to 5 s, with jitter; gRPC's own start at 1 s). Until the next attempt is due, a
//! call fails at once with the last attempt's error instead of dialing again, so a run against a
//! server that went away does not make one connection attempt per call.

use std::io;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::time::Instant;

use super::diagnosis::{DialFailed, Trouble};
use super::retry::{Backoff, MAX_RETRY_BACKOFF};

/// The reconnection state of one channel; clones share it.
#[derive(Clone)]
pub struct Reconnect(Arc<Mutex<State>>);

struct State {
    first_pause: Duration,
    /// The pauses after failed attempts; None while the connection is fine.
    backoff: Option<Backoff>,
    /// When the next attempt may be made, and what the last one failed with.
    failing: Option<(Instant, Failed)>,
}

/// What a failed attempt said, kept to fail the calls that come before the next one.
#[derive(Clone)]
struct Failed {
    kind: io::ErrorKind,
    why: Why,
}

#[derive(Clone)]
enum Why {
    Dial(DialFailed),
    Tls(Trouble),
    Other(String),
}

impl Reconnect {
    /// `first_pause` is the pause after the first failed attempt (--retry-backoff).
    pub fn new(first_pause: Duration) -> Reconnect {
        Reconnect(Arc::new(Mutex::new(State {
            first_pause,
            backoff: None,
            failing: None,
        })))
    }

    /// Before an attempt: the last attempt's error if the next one is not due yet.
    pub fn check(&self) -> io::Result<()> {
        match &self.state().failing {
            Some((due, failed)) if Instant::now() < *due => Err(failed.to_io()),
            _ => Ok(()),
        }
    }

    /// An attempt connected: the next failure starts the pauses from the first again.
    pub fn connected(&self) {
        let mut state = self.state();
        state.backoff = None;
        state.failing = None;
    }

    /// An attempt failed with `err`: no other is made for a pause.
    pub fn failed(&self, err: &io::Error) {
        let mut state = self.state();
        let first = state.first_pause;
        let pause = state
            .backoff
            .get_or_insert_with(|| Backoff::new(first, MAX_RETRY_BACKOFF))
            .next_pause();
        // Cannot overflow: a pause is at most MAX_RETRY_BACKOFF (5 s).
        state.failing = Some((Instant::now() + pause, Failed::of(err)));
    }

    /// How long until the next attempt is due (zero if it is, or none failed).
    pub fn due_in(&self) -> Duration {
        match &self.state().failing {
            Some((due, _)) => due.saturating_duration_since(Instant::now()),
            None => Duration::ZERO,
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves plain data behind: still usable.
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Failed {
    fn of(err: &io::Error) -> Failed {
        let inner = err.get_ref();
        let why = if let Some(dial) = inner.and_then(|e| e.downcast_ref::<DialFailed>()) {
            Why::Dial(dial.clone())
        } else if let Some(trouble) = inner.and_then(|e| e.downcast_ref::<Trouble>()) {
            Why::Tls(trouble.clone())
        } else {
            Why::Other(crate::report::describe_io(err))
        };
        Failed {
            kind: err.kind(),
            why,
        }
    }

    fn to_io(&self) -> io::Error {
        match &self.why {
            Why::Dial(dial) => io::Error::new(self.kind, dial.clone()),
            Why::Tls(trouble) => trouble.clone().into_io(self.kind),
            Why::Other(text) => io::Error::new(self.kind, text.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused() -> io::Error {
        io::Error::new(
            io::ErrorKind::ConnectionRefused,
            DialFailed("could not connect to x (connection refused)".into()),
        )
    }

    #[tokio::test(start_paused = true)]
    async fn a_failed_attempt_fails_the_calls_until_the_next_is_due() {
        let reconnect = Reconnect::new(Duration::from_millis(100));
        assert!(
            reconnect.check().is_ok(),
            "the first attempt is made at once"
        );
        reconnect.failed(&refused());
        let err = reconnect.check().expect_err("not due yet");
        assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused);
        assert!(
            err.get_ref()
                .and_then(|e| e.downcast_ref::<DialFailed>())
                .is_some(),
            "the same words as the attempt's: {err}"
        );
        let due = reconnect.due_in();
        assert!(due >= Duration::from_millis(50) && due <= Duration::from_millis(100));
        tokio::time::advance(due).await;
        assert!(reconnect.check().is_ok(), "due after the pause");
    }

    #[tokio::test(start_paused = true)]
    async fn pauses_grow_while_attempts_fail_and_start_over_once_one_connects() {
        let reconnect = Reconnect::new(Duration::from_millis(100));
        let mut pauses = Vec::new();
        for _ in 0..4 {
            reconnect.failed(&refused());
            pauses.push(reconnect.due_in());
            tokio::time::advance(reconnect.due_in()).await;
        }
        // Steps of 100, 200, 400 and 800 ms, each half fixed and half random.
        for (pause, step) in pauses.iter().zip([100, 200, 400, 800]) {
            let step = Duration::from_millis(step);
            assert!(*pause >= step / 2 && *pause <= step, "{pauses:?}");
        }
        reconnect.connected();
        assert_eq!(reconnect.due_in(), Duration::ZERO);
        reconnect.failed(&refused());
        assert!(
            reconnect.due_in() <= Duration::from_millis(100),
            "from the first again"
        );
    }
}
