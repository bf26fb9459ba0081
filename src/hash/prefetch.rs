//! A helper thread per hashing worker that maps the next windows of its chains, page tables
//! filled, and unmaps the windows already hashed, so the hashing thread does nothing but hash.
//!
//! Filling page tables and tearing them down costs 0.06-0.11 s per GiB (measured on the
//! build machine); on the hashing thread that is 10-20 % of SHA-256's own time. The helper
//! lives as long as the worker: a thread started per window would put its start-up cost on
//! the hashing thread instead.

use std::fs::File;
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;

use crate::hash::window::Window;

/// One window to map: the file, the offset and the length.
pub(crate) type Ahead = (Arc<File>, u64, usize);

struct Request {
    retire: Vec<Window>,
    map: Vec<Ahead>,
}

/// The helper of one worker. Requests are answered in order, one answer per request.
pub(crate) struct Prefetcher {
    to_helper: Option<Sender<Request>>,
    from_helper: Receiver<Vec<Option<Window>>>,
    thread: Option<JoinHandle<()>>,
    /// The answer when the helper could not be started: done on the calling thread.
    inline: Option<Vec<Option<Window>>>,
}

fn serve(req: Request) -> Vec<Option<Window>> {
    // Unmapped first, so the mapped memory stays near two windows per chain.
    drop(req.retire);
    req.map
        .iter()
        .map(|(file, offset, len)| Window::map(file, *offset, *len, true))
        .collect()
}

impl Prefetcher {
    /// Starts the helper thread.
    pub(crate) fn new() -> Prefetcher {
        let (to_helper, requests) = channel::<Request>();
        let (answers, from_helper) = channel();
        // A plain thread, not a rayon job: on a cold cache the populate blocks on the disk,
        // and a rayon worker waiting for it would spin instead of sleeping.
        let thread = std::thread::Builder::new()
            .name("msign-prefetch".into())
            .spawn(move || {
                for req in requests {
                    if answers.send(serve(req)).is_err() {
                        return;
                    }
                }
            })
            .ok();
        Prefetcher {
            to_helper: thread.is_some().then_some(to_helper),
            from_helper,
            thread,
            inline: None,
        }
    }

    /// Unmaps `retire` and maps `map` on the helper; [`Prefetcher::take`] collects the windows.
    pub(crate) fn start(&mut self, retire: Vec<Window>, map: Vec<Ahead>) {
        let req = Request { retire, map };
        match &self.to_helper {
            Some(tx) => {
                if let Err(e) = tx.send(req) {
                    // The helper is gone: do the work here.
                    self.inline = Some(serve(e.0));
                }
            }
            None => self.inline = Some(serve(req)),
        }
    }

    /// The windows of the last [`Prefetcher::start`], in its order; `None` for a window that
    /// could not be mapped (the chain then reads instead).
    pub(crate) fn take(&mut self, count: usize) -> Vec<Option<Window>> {
        if let Some(done) = self.inline.take() {
            return done;
        }
        self.from_helper
            .recv()
            .unwrap_or_else(|_| (0..count).map(|_| None).collect())
    }
}

impl Drop for Prefetcher {
    fn drop(&mut self) {
        self.to_helper = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
