//! A run second by second, for the report's charts and the live progress line: calls, OK,
//! errors, p50 and p99 of each second. Only the current second has a histogram; a finished
//! second keeps its five numbers, so a run of an hour holds 3600 of them (about 150 KiB), not
//! 3600 histograms.

use std::time::Duration;

use serde_json::{Value, json};

use super::latencies::Latencies;

/// One second of the run, counted by when calls ended.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Second {
    /// Seconds into the run at which it starts.
    pub second: u64,
    pub calls: u64,
    pub ok: u64,
    pub errors: u64,
    pub p50_ms: f64,
    pub p99_ms: f64,
}

impl Second {
    pub fn json(&self) -> Value {
        json!({
            "second": self.second,
            "calls": self.calls,
            "ok": self.ok,
            "errors": self.errors,
            "p50_ms": self.p50_ms,
            "p99_ms": self.p99_ms,
        })
    }
}

#[derive(Default)]
pub struct Timeline {
    finished: Vec<Second>,
    current: Second,
    latencies: Latencies,
}

impl Timeline {
    /// A call that ended `at` into the run, OK after `latency`, or failed (None).
    pub fn record(&mut self, at: Duration, latency: Option<Duration>) {
        let second = at.as_secs();
        while self.current.second < second {
            self.finish_current();
        }
        self.current.calls += 1;
        match latency {
            Some(latency) => {
                self.current.ok += 1;
                self.latencies.record(latency);
            }
            None => self.current.errors += 1,
        }
    }

    fn finish_current(&mut self) {
        let next = self.current.second + 1;
        self.current.p50_ms = millis(self.latencies.quantile(0.50));
        self.current.p99_ms = millis(self.latencies.quantile(0.99));
        self.finished.push(self.current);
        self.latencies.reset();
        self.current = Second {
            second: next,
            ..Second::default()
        };
    }

    /// The last whole second, for the live view.
    pub fn last_finished(&self) -> Option<&Second> {
        self.finished.last()
    }

    /// Every second of the run, the one in progress last (if any call ended in it).
    pub fn seconds(&self) -> Vec<Second> {
        let mut seconds = self.finished.clone();
        if self.current.calls > 0 {
            let mut current = self.current;
            current.p50_ms = millis(self.latencies.quantile(0.50));
            current.p99_ms = millis(self.latencies.quantile(0.99));
            seconds.push(current);
        }
        seconds
    }
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_are_counted_in_the_second_they_ended() {
        let mut timeline = Timeline::default();
        let ms = Duration::from_millis;
        timeline.record(ms(100), Some(ms(2)));
        timeline.record(ms(900), None);
        // A second with no call at all is still a second of the run.
        timeline.record(ms(2500), Some(ms(40)));
        let seconds = timeline.seconds();
        assert_eq!(seconds.len(), 3, "{seconds:?}");
        assert_eq!(
            (seconds[0].calls, seconds[0].ok, seconds[0].errors),
            (2, 1, 1)
        );
        assert!((seconds[0].p99_ms - 2.0).abs() < 0.01, "{seconds:?}");
        assert_eq!(
            seconds[1],
            Second {
                second: 1,
                ..Second::default()
            }
        );
        assert_eq!((seconds[2].second, seconds[2].ok), (2, 1));
        assert!((seconds[2].p50_ms - 40.0).abs() < 0.1, "{seconds:?}");
        assert_eq!(timeline.last_finished().map(|s| s.second), Some(1));
    }
}
