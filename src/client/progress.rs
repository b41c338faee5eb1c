//! The progress line of a repeated run, on stderr when a person is watching.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::repeat::Repeat;

/// A progress bar on stderr when a person is watching (a terminal) and the run is long enough
/// to need one; never in pipes or CI logs.
pub fn progress_bar(repeat: &Repeat) -> ProgressBar {
    let watched = std::io::stderr().is_terminal();
    let long = repeat.duration.is_some_and(|d| d > Duration::from_secs(1))
        || repeat.count.is_some_and(|count| count > 1000);
    if !(watched && long) {
        return ProgressBar::hidden();
    }
    let bar = match repeat.count {
        Some(count) => ProgressBar::with_draw_target(Some(count), ProgressDrawTarget::stderr()),
        None => ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr()),
    };
    let template = match repeat.count {
        Some(_) => "{spinner} {pos}/{len} calls {per_sec} {wide_bar} {eta}",
        None => "{spinner} {pos} calls {per_sec} {elapsed}",
    };
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style);
    }
    bar
}
