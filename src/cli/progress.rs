//! Progress bars on stderr, only when stderr is a terminal: one for hashing, which appears
//! only when work lasts more than about a second, and a pair for Hub downloads.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::cli::Ctx;
use crate::hash::{Notice, Progress};
use crate::hub::download::DownloadProgress;

const SHOW_AFTER: Duration = Duration::from_millis(800);

/// Byte progress for hashing.
pub struct Bar {
    bar: Option<ProgressBar>,
    started: Instant,
    shown: AtomicBool,
    label: String,
    notices: Option<Ctx>,
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
            notices: None,
        }
    }

    /// A bar for a command run with `ctx`, which also shows the workflow's notices.
    pub fn for_command(label: &str, ctx: &Ctx) -> Self {
        Bar {
            notices: Some(*ctx),
            ..Bar::new(label, !ctx.text())
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

    fn notice(&self, notice: &Notice) {
        if let Some(ctx) = &self.notices {
            ctx.notice(notice);
        }
    }
}

/// A total bar and a bar for the file being downloaded.
pub struct DownloadBars {
    multi: Option<MultiProgress>,
    total: Mutex<Option<ProgressBar>>,
    file: Mutex<Option<ProgressBar>>,
}

fn slot(m: &Mutex<Option<ProgressBar>>) -> std::sync::MutexGuard<'_, Option<ProgressBar>> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl DownloadBars {
    /// Bars, hidden entirely when `quiet` or stderr is not a terminal.
    pub fn new(quiet: bool) -> Self {
        let shown = !quiet && std::io::stderr().is_terminal();
        DownloadBars {
            multi: shown.then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr())),
            total: Mutex::new(None),
            file: Mutex::new(None),
        }
    }

    fn bar(&self, len: u64, msg: &str) -> Option<ProgressBar> {
        let m = self.multi.as_ref()?;
        let b = m.add(ProgressBar::new(len));
        b.set_style(
            ProgressStyle::with_template(
                "{msg:30!} [{bar:30}] {bytes}/{total_bytes} {binary_bytes_per_sec} eta {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        b.set_message(msg.to_string());
        Some(b)
    }
}

impl DownloadProgress for DownloadBars {
    fn start(&self, total: u64) {
        *slot(&self.total) = self.bar(total, "total");
    }

    fn file_start(&self, name: &str, size: u64) {
        *slot(&self.file) = self.bar(size, name);
    }

    fn advance(&self, bytes: u64) {
        for s in [&self.file, &self.total] {
            if let Some(b) = &*slot(s) {
                b.inc(bytes);
            }
        }
    }

    fn file_done(&self) {
        if let Some(b) = slot(&self.file).take() {
            b.finish_and_clear();
        }
    }

    fn finish(&self) {
        if let Some(b) = slot(&self.total).take() {
            b.finish_and_clear();
        }
    }
}
