//! The example alerting rules in deploy/prometheus/ are valid for Prometheus 2.42's promtool
//! (`promtool check rules`), and their unit tests pass (`promtool test rules`): each alert fires
//! when it should and stays silent when it should not. Skipped, saying so, where promtool is not
//! installed (tests/infra/setup.sh installs it with prometheus).

mod common;

use std::path::Path;
use std::process::Command;

use common::proxy::installed;
use common::{Outcome, run};

/// `promtool ARGS` run to completion in deploy/prometheus/, or `None` after a skip.
fn promtool(args: &[&str]) -> Option<Outcome> {
    let promtool = installed("promtool")?;
    let mut command = Command::new(promtool);
    command
        .args(args)
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/prometheus"));
    Some(run(command))
}

#[test]
fn the_rules_are_valid_and_there_are_three() {
    let Some(out) = promtool(&["check", "rules", "alerts.yml"]) else {
        return;
    };
    assert_eq!(out.code, Some(0), "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("SUCCESS: 3 rules found"),
        "{}{}",
        out.stdout,
        out.stderr
    );
}

#[test]
fn each_alert_fires_when_it_should_and_only_then() {
    let Some(out) = promtool(&["test", "rules", "alerts.test.yml"]) else {
        return;
    };
    assert_eq!(out.code, Some(0), "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("SUCCESS"),
        "{}{}",
        out.stdout,
        out.stderr
    );
}
