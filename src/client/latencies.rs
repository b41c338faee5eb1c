//! The latencies of a run in a fixed-size histogram (1 µs to an hour, 3 significant digits):
//! its memory stays the same however many calls the run makes, where a list of every latency
//! grew by 16 bytes a call.

use std::time::Duration;

use hdrhistogram::Histogram;

pub struct Latencies(Histogram<u64>);

/// The longest latency kept exactly; a longer one counts as this long.
const LONGEST_US: u64 = 3_600_000_000;

impl Default for Latencies {
    fn default() -> Self {
        // The bounds are constants that hdrhistogram accepts (low >= 1, high >= 2 * low,
        // 3 significant figures): this cannot fail.
        let histogram = Histogram::new_with_bounds(1, LONGEST_US, 3)
            .expect("constant bounds hdrhistogram accepts");
        Latencies(histogram)
    }
}

impl Latencies {
    pub fn record(&mut self, latency: Duration) {
        let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        self.0.saturating_record(micros.clamp(1, LONGEST_US));
    }

    pub fn count(&self) -> u64 {
        self.0.len()
    }

    pub fn min(&self) -> Duration {
        self.micros(self.0.min())
    }

    pub fn max(&self) -> Duration {
        self.micros(self.0.max())
    }

    /// The latency below which `fraction` of the calls fall (zero with no call).
    pub fn quantile(&self, fraction: f64) -> Duration {
        self.micros(self.0.value_at_quantile(fraction))
    }

    fn micros(&self, value: u64) -> Duration {
        if self.0.is_empty() {
            Duration::ZERO
        } else {
            Duration::from_micros(value)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_come_within_the_histogram_precision() {
        let mut latencies = Latencies::default();
        for ms in 1..=100 {
            latencies.record(Duration::from_millis(ms));
        }
        assert_eq!(latencies.count(), 100);
        let near = |got: Duration, ms: u64| {
            let want = Duration::from_millis(ms).as_secs_f64();
            (got.as_secs_f64() - want).abs() <= want / 1000.0
        };
        assert!(
            near(latencies.quantile(0.5), 50),
            "{:?}",
            latencies.quantile(0.5)
        );
        assert!(
            near(latencies.quantile(0.99), 99),
            "{:?}",
            latencies.quantile(0.99)
        );
        assert!(near(latencies.min(), 1) && near(latencies.max(), 100));
    }

    #[test]
    fn nothing_recorded_is_zero_and_extremes_are_clamped() {
        let mut latencies = Latencies::default();
        assert_eq!(latencies.quantile(0.99), Duration::ZERO);
        assert_eq!(latencies.max(), Duration::ZERO);
        latencies.record(Duration::ZERO);
        latencies.record(Duration::from_secs(100_000));
        assert_eq!(latencies.count(), 2);
        assert_eq!(latencies.min(), Duration::from_micros(1));
        assert!(latencies.max() >= Duration::from_secs(3600));
    }
}
