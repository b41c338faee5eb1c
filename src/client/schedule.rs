//! When each call of an open-loop run (--rate) is due: at a steady rate, call i at i / R; on a
//! ramp from R0 to R1 over the run's duration T, when the calls so far, R0·t + (R1 − R0)·t²/2T,
//! reach i.

use std::time::Duration;

use crate::cli::Rate;

#[derive(Debug, Clone, Copy)]
pub struct Schedule {
    rate: Rate,
    /// The ramp's length; a steady rate needs none.
    over: Option<Duration>,
}

impl Schedule {
    pub fn new(rate: Rate, over: Option<Duration>) -> Self {
        Schedule { rate, over }
    }

    /// How long after the start call `i` (from 0) is due; None past the end of a ramp.
    pub fn due(&self, i: u64) -> Option<Duration> {
        let Rate { from, to } = self.rate;
        let i = i as f64;
        let seconds = match self.over {
            Some(over) if from != to => {
                let t = over.as_secs_f64();
                let a = (to - from) / (2.0 * t);
                // The positive root of a·s² + from·s − i = 0; `from` > 0, so it is real.
                let s = (-from + (from * from + 4.0 * a * i).max(0.0).sqrt()) / (2.0 * a);
                if !s.is_finite() || s > t {
                    return None;
                }
                s
            }
            _ => i / from,
        };
        Duration::try_from_secs_f64(seconds).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(got: Option<Duration>, seconds: f64) -> bool {
        got.is_some_and(|got| (got.as_secs_f64() - seconds).abs() < 1e-6)
    }

    #[test]
    fn a_steady_rate_spaces_calls_evenly() {
        let steady = Schedule::new(
            Rate {
                from: 1000.0,
                to: 1000.0,
            },
            None,
        );
        assert!(close(steady.due(0), 0.0));
        assert!(close(steady.due(1), 0.001));
        assert!(close(steady.due(2500), 2.5));
    }

    #[test]
    fn a_ramp_makes_the_calls_its_average_rate_gives() {
        // 100/s to 300/s over 10 s: 2000 calls in all, the first half-second at about 100/s.
        let ramp = Schedule::new(
            Rate {
                from: 100.0,
                to: 300.0,
            },
            Some(Duration::from_secs(10)),
        );
        assert!(close(ramp.due(0), 0.0));
        assert!(close(ramp.due(2000), 10.0), "{:?}", ramp.due(2000));
        assert!(ramp.due(2001).is_none(), "past the end of the ramp");
        let half = ramp.due(1000).unwrap().as_secs_f64();
        // 100 t + 10 t² = 1000: t = 5·(√5 − 1) ≈ 6.18 s (slower first, faster last).
        assert!((half - 6.180_34).abs() < 1e-3, "{half}");
        let down = Schedule::new(
            Rate {
                from: 300.0,
                to: 100.0,
            },
            Some(Duration::from_secs(10)),
        );
        assert!(close(down.due(2000), 10.0), "{:?}", down.due(2000));
    }
}
