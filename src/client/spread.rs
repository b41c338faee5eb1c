//! Which replicas answered a run, by the name each sends in `greeter-replica`: calls, OK,
//! errors and latency per replica, and how evenly they shared the calls. This is what tells a
//! user whether a load balancer, a Service or a mesh spreads the calls, and how.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use serde_json::{Value, json};

use super::latencies::Latencies;

/// Calls whose answer named no replica: a server that does not send `greeter-replica`, or no
/// answer at all (the connection failed).
pub const UNNAMED: &str = "(unnamed)";

#[derive(Default)]
pub struct Spread(BTreeMap<String, Replica>);

#[derive(Default)]
struct Replica {
    ok: u64,
    errors: u64,
    latencies: Latencies,
}

impl Spread {
    pub fn ok(&mut self, replica: Option<&str>, latency: Duration) {
        let replica = self.entry(replica);
        replica.ok += 1;
        replica.latencies.record(latency);
    }

    pub fn failed(&mut self, replica: Option<&str>) {
        self.entry(replica).errors += 1;
    }

    fn entry(&mut self, replica: Option<&str>) -> &mut Replica {
        let name = replica.unwrap_or(UNNAMED);
        // A lookup first: the name is allocated once per replica, not once per call.
        if !self.0.contains_key(name) {
            self.0.insert(name.to_owned(), Replica::default());
        }
        self.0.get_mut(name).expect("inserted just above")
    }

    /// The replicas that named themselves.
    fn named(&self) -> impl Iterator<Item = (&String, &Replica)> {
        self.0.iter().filter(|(name, _)| name.as_str() != UNNAMED)
    }

    /// The share of the calls of the busiest and of the least busy named replica, when there
    /// are two or more.
    fn extremes(&self) -> Option<(f64, f64)> {
        let calls: Vec<u64> = self.named().map(|(_, replica)| replica.calls()).collect();
        let total: u64 = self.0.values().map(Replica::calls).sum();
        if calls.len() < 2 || total == 0 {
            return None;
        }
        let share = |calls: u64| calls as f64 / total as f64;
        let (max, min) = (calls.iter().max()?, calls.iter().min()?);
        Some((share(*max), share(*min)))
    }

    /// A table for people, when two or more replicas answered (with one, there is nothing to
    /// compare).
    pub fn table(&self) -> Option<String> {
        let (max, min) = self.extremes()?;
        let total: u64 = self.0.values().map(Replica::calls).sum();
        let width = self.0.keys().map(String::len).max().unwrap_or(0).max(7);
        let mut table = format!(
            "{:<width$}  {:>8}  {:>8}  {:>6}  {:>9}  {:>9}  {:>6}\n",
            "replica", "calls", "ok", "errors", "p50", "p99", "share"
        );
        for (name, replica) in &self.0 {
            let _ = writeln!(
                table,
                "{name:<width$}  {:>8}  {:>8}  {:>6}  {:>7.2}ms  {:>7.2}ms  {:>5.1}%",
                replica.calls(),
                replica.ok,
                replica.errors,
                millis(replica.latencies.quantile(0.50)),
                millis(replica.latencies.quantile(0.99)),
                100.0 * replica.calls() as f64 / total as f64,
            );
        }
        let ratio = if min > 0.0 { max / min } else { f64::INFINITY };
        let _ = write!(
            table,
            "spread over {} replicas: the busiest took {ratio:.2}x the calls of the least busy",
            self.named().count()
        );
        Some(table)
    }

    /// Every replica with its counts and latencies, and the spread (null with fewer than two).
    pub fn json(&self) -> (Value, Value) {
        let replicas = self
            .0
            .iter()
            .map(|(name, replica)| {
                let counts = json!({
                    "calls": replica.calls(),
                    "ok": replica.ok,
                    "errors": replica.errors,
                    "p50_ms": millis(replica.latencies.quantile(0.50)),
                    "p99_ms": millis(replica.latencies.quantile(0.99)),
                });
                (name.clone(), counts)
            })
            .collect::<serde_json::Map<_, _>>();
        let spread = self.extremes().map_or(
            Value::Null,
            |(max, min)| json!({ "max_share": max, "min_share": min }),
        );
        (Value::Object(replicas), spread)
    }
}

impl Replica {
    fn calls(&self) -> u64 {
        self.ok + self.errors
    }
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_shows_each_replica_and_how_evenly_they_shared() {
        let mut spread = Spread::default();
        for _ in 0..3 {
            spread.ok(Some("pod-a"), Duration::from_millis(1));
        }
        spread.ok(Some("pod-b"), Duration::from_millis(2));
        spread.failed(Some("pod-b"));
        spread.failed(None);
        let table = spread.table().expect("two replicas");
        assert!(table.contains("pod-a"), "{table}");
        assert!(table.contains(UNNAMED), "{table}");
        assert!(
            table.ends_with(
                "spread over 2 replicas: the busiest took 1.50x the calls of the least busy"
            ),
            "{table}"
        );
        let (replicas, extremes) = spread.json();
        assert_eq!(replicas["pod-b"]["calls"], 2);
        assert_eq!(replicas["pod-b"]["errors"], 1);
        assert_eq!(replicas[UNNAMED]["errors"], 1);
        assert_eq!(extremes["max_share"], 0.5);
    }

    #[test]
    fn one_replica_has_nothing_to_compare() {
        let mut spread = Spread::default();
        spread.ok(Some("only"), Duration::from_millis(1));
        assert!(spread.table().is_none());
        assert_eq!(spread.json().1, Value::Null);
    }
}
