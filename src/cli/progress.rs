//! A progress bar on stderr that appears only when work lasts more than about a second
//! and stderr is a terminal.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::hash::Progress;

const SHOW_AFTER: Duration = Duration::from_millis(800);

/// Byte progress for hashing.
pub struct Bar {
    bar: Option<ProgressBar>,
    started: Instant,
    shown: AtomicBool,
    label: String,
}

impl Bar {
    /// A bar labelled `label`; hidden entirely when `quiet` or stderr is not a terminal.
    pub fn new(label: &str, quiet: bool) -> Self {
        let enabled = !quiet && std::io::stderr().is_terminal();
        Bar {
            bar: enabled.then(|| ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden())),
            started: Instant::now(),
            shown: AtomicBool::new(false),
            label: label.to_string(),
        }
    }
}

impl Progress for Bar {
    fn start(&self, total: u64) {
        if let Some(b) = &self.bar {
            b.set_length(total);
            b.set_style(
                ProgressStyle::with_template(
                    "{msg} [{bar:30}] {bytes}/{total_bytes} {binary_bytes_per_sec} eta {eta}",
                )
                .expect("static template")
                .progress_chars("=> "),
            );
            b.set_message(self.label.clone());
        }
    }

    fn advance(&self, bytes: u64) {
        if let Some(b) = &self.bar {
            b.inc(bytes);
            if !self.shown.load(Ordering::Relaxed)
                && self.started.elapsed() > SHOW_AFTER
                && !self.shown.swap(true, Ordering::Relaxed)
            {
                b.set_draw_target(ProgressDrawTarget::stderr());
            }
        }
    }

    fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}
