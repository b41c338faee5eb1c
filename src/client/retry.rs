//! The one retry rule of `hello`: pauses that double from a first step up to a cap, with
//! jitter, and a budget of retries within a deadline. Single calls (`--retries`), repeated
//! calls, connecting (`--wait-for-ready`) and a channel connecting again (`reconnect`) all
//! pause through it.

use std::time::Duration;

use tokio::time::Instant;

/// The longest pause between two retries of a call.
pub const MAX_RETRY_BACKOFF: Duration = Duration::from_secs(5);

/// Pauses that double from `first` up to `max`, each with jitter (half fixed, half random), so
/// that many clients failing together do not come back together.
pub struct Backoff {
    step: Duration,
    max: Duration,
}

impl Backoff {
    /// A `first` step beyond `max` (a long --retry-backoff) starts at `max`: every pause is at
    /// most `max`, and doubling a step never overflows.
    pub fn new(first: Duration, max: Duration) -> Self {
        Backoff {
            step: first.min(max),
            max,
        }
    }

    pub fn next_pause(&mut self) -> Duration {
        let step = self.step;
        self.step = (step * 2).min(self.max);
        let half = step / 2;
        // Cannot truncate: `half` is at most half of `max`, seconds where u64 holds centuries
        // of nanoseconds.
        half + Duration::from_nanos(fastrand::u64(0..=half.as_nanos() as u64))
    }
}

/// What a deadline allows of the last pause.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LastTry {
    /// A retry whose pause would reach the deadline is not made (a call needs time to run).
    BeforeTheDeadline,
    /// The last pause is cut to end at the deadline, and the last attempt made right at it.
    AtTheDeadline,
}

/// The retries one operation may still make.
pub struct Retries {
    backoff: Backoff,
    left: u32,
    deadline: Instant,
    last: LastTry,
}

impl Retries {
    /// `left` retries at most (`u32::MAX`: as many as the deadline allows).
    pub fn new(backoff: Backoff, left: u32, deadline: Instant, last: LastTry) -> Self {
        Retries {
            backoff,
            left,
            deadline,
            last,
        }
    }

    /// After a failure worth retrying: the pause before the next attempt, or None when no
    /// attempt is left (the budget is spent, or the deadline does not allow one).
    pub fn next_pause(&mut self) -> Option<Duration> {
        if self.left == 0 {
            return None;
        }
        let pause = self.backoff.next_pause();
        let pause = match self.last {
            LastTry::BeforeTheDeadline => {
                // Cannot overflow: a pause is at most the backoff's `max`.
                Some(pause).filter(|&pause| Instant::now() + pause < self.deadline)
            }
            LastTry::AtTheDeadline => {
                let left = self.deadline.saturating_duration_since(Instant::now());
                Some(pause.min(left)).filter(|pause| !pause.is_zero())
            }
        }?;
        // Cannot underflow: `left` was not zero above.
        self.left -= 1;
        Some(pause)
    }
}

/// The pause as people read it: whole milliseconds.
pub fn shown(pause: Duration) -> String {
    format!("{}ms", pause.as_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pauses_double_up_to_the_cap_with_jitter() {
        let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_millis(300));
        let steps = [100, 200, 300, 300];
        for step in steps {
            let pause = backoff.next_pause();
            let step = Duration::from_millis(step);
            assert!(
                pause >= step / 2 && pause <= step,
                "{pause:?} for a step of {step:?}"
            );
        }
    }

    #[test]
    fn a_first_step_beyond_the_cap_starts_at_the_cap() {
        // `--retry-backoff 300000000000y`: doubling it overflowed Duration (a panic).
        let mut backoff = Backoff::new(Duration::MAX, MAX_RETRY_BACKOFF);
        for _ in 0..3 {
            let pause = backoff.next_pause();
            assert!(
                pause >= MAX_RETRY_BACKOFF / 2 && pause <= MAX_RETRY_BACKOFF,
                "{pause:?}"
            );
        }
    }

    fn retries(left: u32, within: Duration, last: LastTry) -> Retries {
        let backoff = Backoff::new(Duration::from_millis(100), Duration::from_millis(100));
        Retries::new(backoff, left, Instant::now() + within, last)
    }

    #[test]
    fn the_budget_ends_the_retries() {
        let mut two = retries(2, Duration::from_secs(60), LastTry::BeforeTheDeadline);
        assert!(two.next_pause().is_some());
        assert!(two.next_pause().is_some());
        assert_eq!(two.next_pause(), None);
    }

    #[test]
    fn the_deadline_ends_them_before_or_at_it() {
        // Pauses of 50-100 ms against a deadline 10 ms away.
        let mut before = retries(5, Duration::from_millis(10), LastTry::BeforeTheDeadline);
        assert_eq!(before.next_pause(), None);
        let mut at = retries(5, Duration::from_millis(10), LastTry::AtTheDeadline);
        let pause = at.next_pause().expect("cut to the deadline");
        assert!(pause <= Duration::from_millis(10), "{pause:?}");
    }
}
