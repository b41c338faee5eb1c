//! The values of the load generator's flags (--rate, --percentiles, the thresholds), parsed as
//! clap takes them: std only, like the rest of `cli`.

/// --rate: calls a second, the same all along (`from == to`) or ramping from one to the other.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    pub from: f64,
    pub to: f64,
}

/// The fastest --rate or --min-rate taken: past it a schedule is no schedule (one call each
/// 100 ns), and a typo of a few zeros is caught.
const MAX_RATE: f64 = 10_000_000.0;

/// `1000`, `1000/s` or `2.5`: calls a second, more than 0.
pub(crate) fn parse_per_second(text: &str) -> Result<f64, String> {
    let number = text.trim().strip_suffix("/s").unwrap_or(text.trim());
    match number.parse::<f64>() {
        Ok(rate) if rate > 0.0 && rate <= MAX_RATE => Ok(rate),
        Ok(rate) if rate > MAX_RATE => Err(format!("at most {MAX_RATE} calls a second")),
        _ => Err("expected calls a second, more than 0: e.g. 1000 or 1000/s".into()),
    }
}

/// `1000`, `1000/s`, or a ramp `100..2000`.
pub(crate) fn parse_rate(text: &str) -> Result<Rate, String> {
    let (from, to) = match text.split_once("..") {
        Some((from, to)) => (parse_per_second(from)?, parse_per_second(to)?),
        None => {
            let rate = parse_per_second(text)?;
            (rate, rate)
        }
    };
    Ok(Rate { from, to })
}

/// A percentile: more than 0, at most 100 (the slowest call).
pub(crate) fn parse_percentile(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(p) if p > 0.0 && p <= 100.0 => Ok(p),
        _ => Err("expected percentiles from 0 (exclusive) to 100, e.g. 50,95,99.9".into()),
    }
}

/// `0.1%`, `5%` or `5`: a percentage from 0 to 100.
pub(crate) fn parse_percent(text: &str) -> Result<f64, String> {
    let number = text.trim().strip_suffix('%').unwrap_or(text.trim());
    match number.parse::<f64>() {
        Ok(p) if (0.0..=100.0).contains(&p) => Ok(p),
        _ => Err("expected a percentage from 0% to 100%, e.g. 0.1%".into()),
    }
}
