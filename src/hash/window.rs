//! Read-only memory maps of bounded windows of a file, safe against concurrent truncation.
//!
//! Hashing a mapped file avoids copying every byte through a read buffer, a copy that
//! otherwise costs a third of what SHA-256 costs on the same core. Mapping a bounded window
//! (not the whole file) keeps resident memory bounded whatever the model size.
//!
//! A mapped file that shrinks while it is read makes the kernel raise `SIGBUS`, which would
//! kill the process. [`Window::map`] registers each window in a fixed table; a process-wide
//! `SIGBUS` handler that finds the faulting address in a registered window maps a zero page
//! over it, marks the window as faulted and lets the read go on. The caller then discards the
//! window's result ([`Window::faulted`]) and reports the file as changed. Faults elsewhere
//! go to the handler that was installed before (or the default action).

use std::fs::File;
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Once;

/// Windows that may be mapped at the same time; more fall back to positioned reads.
const SLOTS: usize = 128;

struct Slot {
    used: AtomicBool,
    start: AtomicUsize,
    end: AtomicUsize,
    faulted: AtomicBool,
}

#[allow(clippy::declare_interior_mutable_const)]
const EMPTY: Slot = Slot {
    used: AtomicBool::new(false),
    start: AtomicUsize::new(0),
    end: AtomicUsize::new(0),
    faulted: AtomicBool::new(false),
};

static TABLE: [Slot; SLOTS] = [EMPTY; SLOTS];
static PAGE: AtomicUsize = AtomicUsize::new(4096);
static INSTALL: Once = Once::new();
static INSTALLED: AtomicBool = AtomicBool::new(false);
/// The `SIGBUS` action found at installation, restored for faults that are not ours.
static mut PREVIOUS: std::mem::MaybeUninit<libc::sigaction> = std::mem::MaybeUninit::zeroed();

extern "C" fn on_sigbus(_sig: libc::c_int, info: *mut libc::siginfo_t, _ctx: *mut libc::c_void) {
    // Only async-signal-safe work here: atomics and raw system calls.
    // SAFETY: the kernel passes a valid siginfo for SA_SIGINFO handlers.
    let addr = unsafe { (*info).si_addr() } as usize;
    let page = PAGE.load(Ordering::Relaxed);
    for slot in &TABLE {
        let start = slot.start.load(Ordering::Acquire);
        if start != 0 && addr >= start && addr < slot.end.load(Ordering::Acquire) {
            let at = addr & !(page - 1);
            // SAFETY: the page lies inside a mapping this process owns and registered; it is
            // replaced by a private zero page so the faulting read can complete.
            let p = unsafe {
                libc::mmap(
                    at as *mut libc::c_void,
                    page,
                    libc::PROT_READ,
                    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED,
                    -1,
                    0,
                )
            };
            if p != libc::MAP_FAILED {
                slot.faulted.store(true, Ordering::Release);
                return;
            }
            break;
        }
    }
    // Not a registered window: restore the previous action; the fault repeats and is
    // handled (or kills the process) as it would have without msign.
    // SAFETY: PREVIOUS was written once before this handler was installed.
    unsafe {
        libc::sigaction(
            libc::SIGBUS,
            std::ptr::addr_of!(PREVIOUS).cast::<libc::sigaction>(),
            std::ptr::null_mut(),
        );
    }
}

fn install() -> bool {
    INSTALL.call_once(|| {
        // SAFETY: plain libc calls; PREVIOUS is written before the handler can run.
        unsafe {
            let page = libc::sysconf(libc::_SC_PAGESIZE);
            if page > 0 {
                PAGE.store(page as usize, Ordering::Relaxed);
            }
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_sigbus as *const () as usize;
            action.sa_flags = libc::SA_SIGINFO | libc::SA_NODEFER;
            libc::sigemptyset(&mut action.sa_mask);
            let prev = std::ptr::addr_of_mut!(PREVIOUS).cast::<libc::sigaction>();
            if libc::sigaction(libc::SIGBUS, &action, prev) == 0 {
                INSTALLED.store(true, Ordering::Release);
            }
        }
    });
    INSTALLED.load(Ordering::Acquire)
}

/// A read-only mapping of `[offset, offset + len)` of a file.
pub(crate) struct Window {
    base: *mut libc::c_void,
    map_len: usize,
    skip: usize,
    len: usize,
    slot: usize,
}

// SAFETY: the mapping is read-only and owned by this value; nothing is thread-bound.
unsafe impl Send for Window {}
// SAFETY: see above; shared access only reads.
unsafe impl Sync for Window {}

impl Window {
    /// Maps a window, optionally asking the kernel to fill the page tables now
    /// (`MAP_POPULATE`) so that reading it takes no page faults. `None` when the window
    /// cannot be mapped (no free slot, no handler, `mmap` refused): read it instead.
    pub(crate) fn map(file: &File, offset: u64, len: usize, populate: bool) -> Option<Window> {
        if len == 0 || !install() {
            return None;
        }
        let slot = TABLE.iter().position(|s| {
            s.used
                .compare_exchange(false, true, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
        })?;
        let page = PAGE.load(Ordering::Relaxed) as u64;
        let aligned = offset - offset % page;
        let skip = (offset - aligned) as usize;
        let map_len = skip + len;
        let mut flags = libc::MAP_PRIVATE;
        if populate {
            flags |= libc::MAP_POPULATE;
        }
        let Ok(off) = libc::off_t::try_from(aligned) else {
            TABLE[slot].used.store(false, Ordering::Release);
            return None;
        };
        // The slot is registered before the mapping exists, so a fault raised by
        // MAP_POPULATE's own reads (a file truncated meanwhile) is recognised too. It never is
        // in practice (populate stops silently), but registering first costs nothing.
        // SAFETY: a fresh mapping chosen by the kernel; the fd is valid for the call.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                map_len,
                libc::PROT_READ,
                flags,
                file.as_raw_fd(),
                off,
            )
        };
        if base == libc::MAP_FAILED {
            TABLE[slot].used.store(false, Ordering::Release);
            return None;
        }
        let s = &TABLE[slot];
        s.faulted.store(false, Ordering::Relaxed);
        s.end.store(base as usize + map_len, Ordering::Release);
        s.start.store(base as usize, Ordering::Release);
        // SAFETY: advisory only, on our own mapping.
        unsafe {
            libc::madvise(base, map_len, libc::MADV_SEQUENTIAL);
        }
        Some(Window {
            base,
            map_len,
            skip,
            len,
            slot,
        })
    }

    /// The window's bytes. Pages past the end of a file truncated meanwhile read as zeros;
    /// check [`Window::faulted`] after reading.
    pub(crate) fn bytes(&self) -> &[u8] {
        // SAFETY: the mapping is live for as long as self, readable, and map_len bytes long.
        // Concurrent writes to the file by other processes can change these bytes while
        // they are read: the digest is then of no consistent version, which is caught by
        // the size and time checks around hashing, never a memory-safety issue for reads
        // of plain bytes.
        unsafe { std::slice::from_raw_parts((self.base as *const u8).add(self.skip), self.len) }
    }

    /// Whether reading hit a page that no longer exists in the file.
    pub(crate) fn faulted(&self) -> bool {
        TABLE[self.slot].faulted.load(Ordering::Acquire)
    }
}

impl Drop for Window {
    fn drop(&mut self) {
        let s = &TABLE[self.slot];
        s.start.store(0, Ordering::Release);
        s.end.store(0, Ordering::Release);
        // SAFETY: unmapping our own mapping once.
        unsafe {
            libc::munmap(self.base, self.map_len);
        }
        s.used.store(false, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn truncated_file_reads_zeros_and_is_flagged() {
        let mut f = tempfile::tempfile().unwrap();
        f.write_all(&vec![0xabu8; 64 * 1024]).unwrap();
        let w = Window::map(&f, 100, 60_000, false).unwrap();
        f.set_len(4096).unwrap();
        let sum: u64 = w.bytes().iter().map(|&b| b as u64).sum();
        assert!(w.faulted(), "a read past the new end must be flagged");
        assert!(sum < 0xab * 60_000);
        drop(w);
        let w = Window::map(&f, 0, 4096, true).unwrap();
        assert!(w.bytes().iter().all(|&b| b == 0xab));
        assert!(!w.faulted(), "a slot reused after a fault starts clean");
    }
}
