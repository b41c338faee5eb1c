//! The progress line of a repeated run, on stderr when a person is watching: the calls so far,
//! and the last whole second's req/s, errors and p99 as the run goes. Never in pipes or CI logs.

use std::cell::Cell;
use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::repeat::Repeat;
use super::timeline::Timeline;

pub struct Progress {
    pub bar: ProgressBar,
    /// The second the message last showed, so it is formatted once a second, not per call.
    shown: Cell<Option<u64>>,
}

/// A progress line on stderr when a person is watching (a terminal) and the run is long enough
/// to need one; a hidden one otherwise.
pub fn progress_bar(repeat: &Repeat) -> Progress {
    let watched = std::io::stderr().is_terminal();
    let long = repeat.duration.is_some_and(|d| d > Duration::from_secs(1))
        || repeat.count.is_some_and(|count| count > 1000);
    let bar = if !(watched && long) {
        ProgressBar::hidden()
    } else {
        let bar = ProgressBar::with_draw_target(repeat.count, ProgressDrawTarget::stderr());
        let template = match repeat.count {
            Some(_) => "{spinner} {pos}/{len} calls {wide_bar} {eta}  {msg}",
            None => "{spinner} {pos} calls {elapsed}  {msg}",
        };
        if let Ok(style) = ProgressStyle::with_template(template) {
            bar.set_style(style);
        }
        bar
    };
    Progress {
        bar,
        shown: Cell::new(None),
    }
}

impl Progress {
    /// One more call ended; once a second, the last second's figures.
    pub fn advance(&self, timeline: &Timeline) {
        self.bar.inc(1);
        if self.bar.is_hidden() {
            return;
        }
        let Some(second) = timeline.last_finished() else {
            return;
        };
        if self.shown.get() == Some(second.second) {
            return;
        }
        self.shown.set(Some(second.second));
        self.bar.set_message(format!(
            "last second: {} req/s, {} error{}, p99 {:.2}ms",
            second.calls,
            second.errors,
            if second.errors == 1 { "" } else { "s" },
            second.p99_ms
        ));
    }
}
