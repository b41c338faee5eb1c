//! What happened to the calls of a repeated run, as they end: latencies, failures by status,
//! calls per replica, and whether the server stopped answering; and the verdict on them.

use std::collections::BTreeMap;
use std::time::Duration;

use color_eyre::eyre::{Report, Result};
use tonic::Code;

use super::latencies::Latencies;
use super::spread::Spread;
use super::thresholds::Checked;
use super::timeline::Timeline;
use crate::exit::{CallFailed, ThresholdsMissed};

/// What happened to the calls.
#[derive(Default)]
pub struct Tally {
    pub latencies: Latencies,
    /// By status code: how many, and the last message.
    pub failures: BTreeMap<i32, (u64, String)>,
    /// How many times each (code, message) was seen, for the summary's list of errors; at most
    /// [`MESSAGES`] of them, the rest counted in `other_messages`.
    pub messages: BTreeMap<(i32, String), u64>,
    pub other_messages: u64,
    /// The run second by second.
    pub timeline: Timeline,
    /// Open-loop runs: calls that could not start on time, every slot (--concurrency) taken.
    pub late: u64,
    /// When, into the run, the last call that succeeded ended.
    pub last_ok: Option<Duration>,
    /// How many calls ended after it, all failed: the server stopped answering.
    pub failed_since: u64,
    /// The calls by the replica that answered them.
    pub spread: Spread,
}

/// The most distinct error messages kept: a server that puts a request id in each message must
/// not grow the summary (and the memory) without bound.
pub const MESSAGES: usize = 20;

impl Tally {
    /// A call that succeeded after `latency`, ending `at` into the run.
    pub fn ok(&mut self, replica: Option<&str>, latency: Duration, at: Duration) {
        self.spread.ok(replica, latency);
        self.latencies.record(latency);
        self.timeline.record(at, Some(latency));
        self.last_ok = Some(at);
        self.failed_since = 0;
    }

    /// A call that failed with `failure`, ending `at` into the run.
    pub fn failed(&mut self, replica: Option<&str>, failure: CallFailed, at: Duration) {
        self.spread.failed(replica);
        self.timeline.record(at, None);
        let code = failure.code as i32;
        let key = (code, failure.message);
        let entry = self.failures.entry(code).or_insert((0, String::new()));
        entry.0 += 1;
        entry.1.clone_from(&key.1);
        if let Some(count) = self.messages.get_mut(&key) {
            *count += 1;
        } else if self.messages.len() < MESSAGES {
            self.messages.insert(key, 1);
        } else {
            self.other_messages += 1;
        }
        self.failed_since += 1;
    }

    pub fn calls(&self) -> u64 {
        // Cannot overflow: one count per call made, and the calls are a range of u64.
        self.latencies.count() + self.failures()
    }

    /// How many calls failed.
    pub fn failures(&self) -> u64 {
        self.failures.values().map(|(count, _)| count).sum()
    }
}

/// If the run ended with failures only: when the last call to succeed ended (None: none did),
/// and how many failed after it.
///
/// Only when the run of failures at the end is more than bad luck: a server failing 20 % of
/// its calls (a flaky backend, `--fault-status UNAVAILABLE:20%`) ends on two failures one run in
/// 25. Taking the calls before the streak as the server's usual failure rate, a streak that
/// would come by chance less than once in a thousand runs is a server that stopped; a server
/// that never failed before has stopped at its first failure.
pub fn stopped_answering(tally: &Tally) -> Option<(Option<Duration>, u64)> {
    let streak = tally.failed_since;
    if streak == 0 {
        return None;
    }
    let failed: u64 = tally.failures.values().map(|(count, _)| count).sum();
    let before = failed.saturating_sub(streak);
    let ok = tally.latencies.count();
    if ok > 0 && before > 0 {
        let usual = before as f64 / (before + ok) as f64;
        let chance = usual.powi(i32::try_from(streak).unwrap_or(i32::MAX));
        if chance >= 1e-3 {
            return None;
        }
    }
    Some((tally.last_ok, streak))
}

/// Success if every call succeeded; otherwise the most frequent failing status (the smaller
/// code on a tie), with the last message seen for it.
pub fn verdict(tally: &Tally, checked: &[Checked], error_rate_judged: bool) -> Result<()> {
    let missed: Vec<String> = checked
        .iter()
        .filter(|checked| !checked.passed)
        .map(Checked::describe)
        .collect();
    if !missed.is_empty() {
        return Err(Report::new(ThresholdsMissed(missed.join("; "))));
    }
    // --max-error-rate said how many failures the run may have, and it had no more.
    if error_rate_judged {
        return Ok(());
    }
    let Some((code, (_, message))) = tally
        .failures
        .iter()
        .max_by(|(a_code, (a, _)), (b_code, (b, _))| a.cmp(b).then(b_code.cmp(a_code)))
    else {
        return Ok(());
    };
    Err(Report::new(CallFailed::new(
        Code::from_i32(*code),
        format!(
            "{} of {} calls failed; most often: {message}",
            tally.failures(),
            tally.calls()
        ),
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tally(failures: &[(Code, u64)]) -> Tally {
        let mut latencies = Latencies::default();
        latencies.record(Duration::from_millis(1));
        Tally {
            latencies,
            failures: failures
                .iter()
                .map(|(code, count)| (*code as i32, (*count, format!("{code:?}"))))
                .collect(),
            ..Tally::default()
        }
    }

    fn exit_code(tally: &Tally) -> Option<Code> {
        verdict(tally, &[], false)
            .err()
            .map(|report| report.downcast_ref::<CallFailed>().unwrap().code)
    }

    #[test]
    fn a_streak_of_failures_is_a_stop_only_beyond_chance() {
        let ended_on = |failures: u64, streak: u64| {
            let mut tally = tally(&[(Code::Unavailable, failures)]);
            for _ in 1..100 {
                tally.latencies.record(Duration::from_millis(1));
            }
            tally.failed_since = streak;
            stopped_answering(&tally).is_some()
        };
        // 100 calls ok, 25 failed (20 %) among them: two or three at the end are chance.
        assert!(!ended_on(25, 2));
        assert!(!ended_on(27, 4));
        // Five in a row at 20 % is one run in 3000.
        assert!(ended_on(30, 5));
        // A server that never failed before stopped at its first failure.
        assert!(ended_on(1, 1));
        assert!(!ended_on(0, 0));
    }

    #[test]
    fn the_most_frequent_failure_decides_the_exit_code() {
        assert_eq!(exit_code(&tally(&[])), None);
        let mixed = tally(&[(Code::Unavailable, 3), (Code::DeadlineExceeded, 5)]);
        assert_eq!(exit_code(&mixed), Some(Code::DeadlineExceeded));
        let tie = tally(&[(Code::Unavailable, 2), (Code::DeadlineExceeded, 2)]);
        assert_eq!(
            exit_code(&tie),
            Some(Code::DeadlineExceeded),
            "the smaller code wins a tie"
        );
    }
}
