//! What happened to the calls of a repeated run, as they end: latencies, failures by status,
//! calls per replica, and whether the server stopped answering; and the verdict on them.

use std::collections::BTreeMap;
use std::time::Duration;

use color_eyre::eyre::{Report, Result};
use tonic::Code;

use super::latencies::Latencies;
use super::spread::Spread;
use crate::exit::CallFailed;

/// What happened to the calls.
#[derive(Default)]
pub struct Tally {
    pub latencies: Latencies,
    pub failures: BTreeMap<i32, (u64, String)>,
    /// When, into the run, the last call that succeeded ended.
    pub last_ok: Option<Duration>,
    /// How many calls ended after it, all failed: the server stopped answering.
    pub failed_since: u64,
    /// The calls by the replica that answered them.
    pub spread: Spread,
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
pub fn verdict(tally: &Tally) -> Result<()> {
    let failed: u64 = tally.failures.values().map(|(count, _)| count).sum();
    let Some((code, (_, message))) = tally
        .failures
        .iter()
        .max_by(|(a_code, (a, _)), (b_code, (b, _))| a.cmp(b).then(b_code.cmp(a_code)))
    else {
        return Ok(());
    };
    // Cannot overflow: see `summarize`.
    let calls = failed + tally.latencies.count();
    Err(Report::new(CallFailed::new(
        Code::from_i32(*code),
        format!("{failed} of {calls} calls failed; most often: {message}"),
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
            last_ok: None,
            failed_since: 0,
            spread: Spread::default(),
            failures: failures
                .iter()
                .map(|(code, count)| (*code as i32, (*count, format!("{code:?}"))))
                .collect(),
        }
    }

    fn exit_code(tally: &Tally) -> Option<Code> {
        verdict(tally)
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
