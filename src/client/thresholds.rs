//! The pass/fail thresholds of a repeated run, for CI: --max-p99, --max-error-rate and
//! --min-rate. A run that misses one exits 3, naming each and by how much.

use std::time::Duration;

use serde_json::{Value, json};

use super::tally::Tally;

#[derive(Debug, Clone, Copy, Default)]
pub struct Thresholds {
    pub max_p99: Option<Duration>,
    /// In percent.
    pub max_error_rate: Option<f64>,
    /// Calls a second.
    pub min_rate: Option<f64>,
}

/// One threshold, checked against the run.
#[derive(Debug, Clone, PartialEq)]
pub struct Checked {
    pub flag: &'static str,
    pub limit: String,
    pub actual: String,
    pub passed: bool,
    /// How far past the limit, in words (empty when it passed).
    pub by: String,
}

impl Checked {
    pub fn json(&self) -> Value {
        json!({
            "flag": self.flag,
            "limit": self.limit,
            "actual": self.actual,
            "passed": self.passed,
        })
    }

    /// `p99 62.10ms is over --max-p99 50ms by 12.10ms`.
    pub fn describe(&self) -> String {
        let (what, side) = match self.flag {
            "--max-p99" => ("p99", "over"),
            "--max-error-rate" => ("the error rate", "over"),
            _ => ("the rate", "under"),
        };
        format!(
            "{what} {} is {side} {} {} by {}",
            self.actual, self.flag, self.limit, self.by
        )
    }
}

impl Thresholds {
    pub fn any(&self) -> bool {
        self.max_p99.is_some() || self.max_error_rate.is_some() || self.min_rate.is_some()
    }

    /// Each threshold given, checked against what the run did in `elapsed`.
    pub fn check(&self, tally: &Tally, elapsed: Duration) -> Vec<Checked> {
        let mut checked = Vec::new();
        if let Some(limit) = self.max_p99 {
            let p99 = tally.latencies.quantile(0.99);
            checked.push(Checked {
                flag: "--max-p99",
                limit: millis(limit),
                actual: millis(p99),
                passed: p99 <= limit,
                by: millis(p99.saturating_sub(limit)),
            });
        }
        if let Some(limit) = self.max_error_rate {
            let calls = tally.calls();
            let rate = if calls == 0 {
                0.0
            } else {
                tally.failures() as f64 * 100.0 / calls as f64
            };
            checked.push(Checked {
                flag: "--max-error-rate",
                limit: format!("{limit}%"),
                actual: format!("{rate:.3}%"),
                passed: rate <= limit,
                by: format!("{:.3} points", (rate - limit).max(0.0)),
            });
        }
        if let Some(limit) = self.min_rate {
            let rate = tally.calls() as f64 / elapsed.as_secs_f64().max(f64::EPSILON);
            checked.push(Checked {
                flag: "--min-rate",
                limit: format!("{limit}/s"),
                actual: format!("{rate:.1}/s"),
                passed: rate >= limit,
                by: format!("{:.1}/s", (limit - rate).max(0.0)),
            });
        }
        checked
    }
}

fn millis(duration: Duration) -> String {
    format!("{:.2}ms", duration.as_secs_f64() * 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exit::CallFailed;
    use tonic::Code;

    fn tally(ok_ms: &[u64], failed: u64) -> Tally {
        let mut tally = Tally::default();
        for (i, ms) in ok_ms.iter().enumerate() {
            let at = Duration::from_millis(i as u64);
            tally.ok(None, Duration::from_millis(*ms), at);
        }
        for _ in 0..failed {
            tally.failed(
                None,
                CallFailed::new(Code::Unavailable, "down"),
                Duration::ZERO,
            );
        }
        tally
    }

    #[test]
    fn each_threshold_passes_or_fails_by_its_margin() {
        // 10 ms, as the 3 significant digits of the histogram keep it: 10.01 ms.
        let run = tally(&[10; 99], 1);
        let thresholds = Thresholds {
            max_p99: Some(Duration::from_millis(8)),
            max_error_rate: Some(1.0),
            min_rate: Some(200.0),
        };
        let checked = thresholds.check(&run, Duration::from_secs(1));
        let passed: Vec<bool> = checked.iter().map(|c| c.passed).collect();
        assert_eq!(passed, [false, true, false], "{checked:?}");
        assert_eq!(
            checked[0].describe(),
            "p99 10.01ms is over --max-p99 8.00ms by 2.01ms"
        );
        assert_eq!(checked[1].actual, "1.000%");
        assert_eq!(
            checked[2].describe(),
            "the rate 100.0/s is under --min-rate 200/s by 100.0/s"
        );
        assert!(
            Thresholds::default()
                .check(&run, Duration::from_secs(1))
                .is_empty()
        );
    }
}
