//! The values of --fault-delay and --fault-status, and of the request metadata that asks for a
//! fault: `VALUE[:PERCENT%]`, comma-separated, each value with the share of calls it applies
//! to (all of them without a percentage).

use std::time::Duration;

use tonic::Code;

use crate::exit::code_name;

/// One choice of a fault distribution: `value` for `share` of the calls, in millionths (whole
/// numbers, so shares add up exactly: 20 % and 10 % are 30 %, not 30.000000000000004 %).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Weighted<T> {
    pub value: T,
    pub share: u32,
}

/// All the calls, in millionths.
pub const ALL: u32 = 1_000_000;

/// `10ms:5%,200ms:1%`, or `50ms` for every call.
pub fn delays(text: &str) -> Result<Vec<Weighted<Duration>>, String> {
    list(text, "a delay", |value| {
        crate::cli::parse_duration_or_zero(value)
            .map_err(|err| format!("{err}; e.g. 50ms or 10ms:5%,200ms:1%"))
    })
}

/// `UNAVAILABLE:2%,INTERNAL:1%`, or `UNAVAILABLE` for every call; names or numbers.
pub fn statuses(text: &str) -> Result<Vec<Weighted<Code>>, String> {
    list(text, "a status", |value| {
        status(value).map_err(|err| format!("{err}; e.g. UNAVAILABLE:2%,INTERNAL:1%"))
    })
}

/// A gRPC status to fail with, by name (`UNAVAILABLE`, any case) or number (`14`). OK is not a
/// failure, so not a fault.
pub fn status(text: &str) -> Result<Code, String> {
    let text = text.trim();
    let code = match text.parse::<i32>() {
        Ok(number @ 1..=16) => Code::from_i32(number),
        Ok(_) => return Err(format!("'{text}' is not a failing status: use 1 to 16")),
        Err(_) => (1..=16)
            .map(Code::from_i32)
            .find(|&code| code_name(code).eq_ignore_ascii_case(text))
            .ok_or_else(|| format!("'{text}' is not a gRPC status name such as UNAVAILABLE"))?,
    };
    Ok(code)
}

fn list<T>(
    text: &str,
    what: &str,
    value: impl Fn(&str) -> Result<T, String>,
) -> Result<Vec<Weighted<T>>, String> {
    let mut choices = Vec::new();
    let mut total: u32 = 0;
    for item in text.split(',').map(str::trim) {
        let (value_text, share) = match item.rsplit_once(':') {
            Some((value_text, percent)) => (value_text, share(percent)?),
            None => (item, ALL),
        };
        if value_text.is_empty() {
            return Err(format!("'{item}' has no value: expected {what}"));
        }
        total = total.saturating_add(share);
        choices.push(Weighted {
            value: value(value_text)?,
            share,
        });
    }
    if total > ALL {
        return Err(format!(
            "the shares add up to {}%: at most 100% of the calls can get one",
            f64::from(total) / 10_000.0
        ));
    }
    Ok(choices)
}

/// `5%`, `0.5%` or `100%`, in millionths (to 0.0001 %).
fn share(percent: &str) -> Result<u32, String> {
    let number = percent
        .trim()
        .strip_suffix('%')
        .ok_or_else(|| format!("'{percent}' is not a percentage such as 5%"))?;
    match number.parse::<f64>() {
        // Cannot truncate: at most 100 % is 1 000 000.
        Ok(value) if (0.0..=100.0).contains(&value) => Ok((value * 10_000.0).round() as u32),
        _ => Err(format!("'{percent}' is not a percentage from 0% to 100%")),
    }
}

/// Which of `choices` a roll below [`ALL`] lands on: each takes the next `share` of the range,
/// and a roll past them all is no fault.
pub fn pick<T: Copy>(choices: &[Weighted<T>], roll: u32) -> Option<T> {
    let mut below: u32 = 0;
    for choice in choices {
        // Cannot overflow: `list` checked that the shares add up to at most ALL.
        below += choice.share;
        if roll < below {
            return Some(choice.value);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_distribution_of_delays() {
        assert_eq!(
            delays("10ms:5%, 200ms:1%").unwrap(),
            [
                Weighted {
                    value: Duration::from_millis(10),
                    share: 50_000
                },
                Weighted {
                    value: Duration::from_millis(200),
                    share: 10_000
                },
            ]
        );
        assert_eq!(
            delays("50ms").unwrap(),
            [Weighted {
                value: Duration::from_millis(50),
                share: ALL
            }]
        );
        assert_eq!(delays("1s:0.5%").unwrap()[0].share, 5_000);
    }

    #[test]
    fn statuses_by_name_or_number() {
        let parsed = statuses("UNAVAILABLE:2%,internal:1%,8:3%").unwrap();
        let codes: Vec<Code> = parsed.iter().map(|choice| choice.value).collect();
        assert_eq!(
            codes,
            [Code::Unavailable, Code::Internal, Code::ResourceExhausted]
        );
        assert_eq!(status("14"), Ok(Code::Unavailable));
        assert_eq!(status("DEADLINE_EXCEEDED"), Ok(Code::DeadlineExceeded));
    }

    #[test]
    fn mistakes_are_refused_with_a_reason() {
        for (bad, says) in [
            ("UNAVAILABLE:2", "not a percentage"),
            ("UNAVAILABLE:200%", "from 0% to 100%"),
            ("UNAVAILABLE:60%,INTERNAL:50%", "add up to 110%"),
            ("OK", "not a gRPC status name"),
            ("0", "not a failing status"),
            ("17", "not a failing status"),
            ("NOPE:1%", "not a gRPC status name"),
            (":5%", "has no value"),
            ("", "has no value"),
        ] {
            let err = statuses(bad).unwrap_err();
            assert!(err.contains(says), "{bad:?}: {err}");
        }
        assert!(delays("fast:5%").unwrap_err().contains("e.g. 50ms"));
        assert!(delays("10ms:-1%").is_err());
    }

    #[test]
    fn each_choice_takes_its_share_of_the_rolls() {
        let choices = statuses("UNAVAILABLE:20%,INTERNAL:10%").unwrap();
        assert_eq!(pick(&choices, 0), Some(Code::Unavailable));
        assert_eq!(pick(&choices, 199_999), Some(Code::Unavailable));
        assert_eq!(pick(&choices, 200_000), Some(Code::Internal));
        assert_eq!(pick(&choices, 299_999), Some(Code::Internal));
        assert_eq!(pick(&choices, 300_000), None);
        assert_eq!(pick(&choices, ALL - 1), None);
        let always = statuses("UNAVAILABLE").unwrap();
        assert_eq!(pick(&always, ALL - 1), Some(Code::Unavailable));
        assert_eq!(pick::<Code>(&[], 0), None);
        let thirds = statuses("UNAVAILABLE:33.3334%,INTERNAL:33.3333%,ABORTED:33.3333%");
        assert!(thirds.is_ok(), "thirds add up to exactly 100%");
    }
}
