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

    pub fn mean(&self) -> Duration {
        Duration::from_secs_f64(self.0.mean() / 1e6)
    }

    /// Forgets every latency, keeping the memory.
    pub fn reset(&mut self) {
        self.0.reset();
    }

    /// The calls in `buckets` ranges between the fastest and the slowest, each range the same
    /// factor wider than the last (latencies spread over orders of magnitude: equal widths would
    /// put nearly every call in the first): each range's upper bound and its count. Empty with
    /// no call.
    pub fn histogram(&self, buckets: usize) -> Vec<(Duration, u64)> {
        if self.0.is_empty() || buckets == 0 {
            return Vec::new();
        }
        let (low, high) = (self.0.min().max(1) as f64, self.0.max().max(1) as f64);
        let step = (high / low).powf(1.0 / buckets as f64);
        let bounds: Vec<f64> = (1..=buckets).map(|i| low * step.powi(i as i32)).collect();
        let mut counts = vec![0u64; buckets];
        for recorded in self.0.iter_recorded() {
            let value = self.0.highest_equivalent(recorded.value_iterated_to()) as f64;
            let bucket = bounds
                .iter()
                .position(|&bound| value <= bound * (1.0 + 1e-9))
                .unwrap_or(buckets - 1);
            counts[bucket] += recorded.count_at_value();
        }
        bounds
            .iter()
            .zip(counts)
            .map(|(&bound, count)| (Duration::from_secs_f64(bound / 1e6), count))
            .collect()
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

    #[test]
    fn the_histogram_holds_every_call_in_ranges_growing_by_one_factor() {
        let mut latencies = Latencies::default();
        assert!(latencies.histogram(10).is_empty());
        for ms in [1, 1, 1, 2, 4, 8, 16, 32, 64, 128, 1024] {
            latencies.record(Duration::from_millis(ms));
        }
        let buckets = latencies.histogram(10);
        assert_eq!(buckets.len(), 10);
        assert_eq!(buckets.iter().map(|(_, count)| count).sum::<u64>(), 11);
        // From 1 ms to 1024 ms in ten steps: each bound twice the last.
        let bounds: Vec<f64> = buckets
            .iter()
            .map(|(bound, _)| bound.as_secs_f64() * 1e3)
            .collect();
        for (i, bound) in bounds.iter().enumerate() {
            let want = 2f64.powi(i as i32 + 1);
            assert!((bound / want - 1.0).abs() < 0.01, "{bounds:?}");
        }
        assert_eq!(buckets[0].1, 4, "1, 1, 1 and 2 ms: {buckets:?}");
        assert_eq!(buckets[9].1, 1, "the slowest is in the last: {buckets:?}");
    }
}
