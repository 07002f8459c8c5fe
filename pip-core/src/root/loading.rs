//! What the root is loading, for the signal handler.
//!
//! A task program's constructors run inside `dlopen`, on the thread that calls
//! [`Root::spawn`](crate::Root::spawn), before the task has a thread of its own. A constructor
//! that faults there kills the whole process, and one that never returns keeps the root from
//! ever seeing a termination signal it caught. So `spawn` records here which task it loads
//! ([`begin`]), and the signal handler ([`crate::root::signals`]) uses the record to
//!
//! * name the task and the phase before a fault or an `abort()` on the loading thread ends the
//!   process ([`report_fault`]);
//! * end the process, with a message naming the task, on a caught `SIGINT`/`SIGTERM`/`SIGHUP`
//!   that arrives while a task is being loaded ([`report_interrupt`]), since the root cannot
//!   act on it until `dlopen` returns.
//!
//! Everything the handler reads is atomics, and it writes with `write(2)` only: all of it is
//! async-signal-safe.
//!
//! # Record
//!
//! `LOADER_TID` (SeqCst) is the tid of the thread that is loading, 0 when none: set after the
//! description bytes (`WHAT`, `WHAT_LEN`, Relaxed) are written and cleared when loading ends.
//! The handler reads the description only on that thread (its tid equals `LOADER_TID`), where
//! the writes happened before it in program order, so Relaxed is enough for the bytes.

use std::path::Path;
use std::sync::atomic::{AtomicI32, AtomicU8, AtomicUsize, Ordering};

/// The longest message prefix kept (`task N (path)`); a longer path is cut.
const CAP: usize = 400;

/// The thread that is loading a task (0: none).
static LOADER_TID: AtomicI32 = AtomicI32::new(0);
/// `task N (path)`, for messages.
static WHAT: [AtomicU8; CAP] = [const { AtomicU8::new(0) }; CAP];
static WHAT_LEN: AtomicUsize = AtomicUsize::new(0);

/// Clears the record when dropped (the load returned, or failed).
pub(crate) struct Loading(());

impl Drop for Loading {
    fn drop(&mut self) {
        // SYNC(root::loading#record): set after the description, cleared when loading ends (SeqCst); the handler compares it with its own tid
        LOADER_TID.store(0, Ordering::SeqCst);
    }
}

/// Records that the calling thread is about to load task `pipid` from `program`.
pub(crate) fn begin(pipid: usize, program: &Path) -> Loading {
    use std::os::unix::ffi::OsStrExt;
    // SYNC(root::loading#record): set after the description, cleared when loading ends (SeqCst); the handler compares it with its own tid
    LOADER_TID.store(0, Ordering::SeqCst);
    let mut m = Msg::new();
    m.push(b"task ");
    m.push_num(pipid as u64);
    m.push(b" (");
    m.push(program.as_os_str().as_bytes());
    m.push(b")");
    let text = m.bytes();
    let n = text.len().min(CAP);
    for (slot, &b) in WHAT.iter().zip(&text[..n]) {
        // SYNC(root::loading#record): description bytes, Relaxed: read only on the writing thread (after LOADER_TID)
        slot.store(b, Ordering::Relaxed);
    }
    // SYNC(root::loading#record): description length, Relaxed: read only on the writing thread
    WHAT_LEN.store(n, Ordering::Relaxed);
    // SYNC(root::loading#record): set after the description, cleared when loading ends (SeqCst); the handler compares it with its own tid
    LOADER_TID.store(crate::sys::gettid(), Ordering::SeqCst);
    Loading(())
}

/// True while some thread loads a task.
fn active() -> bool {
    // SYNC(root::loading#record): set after the description, cleared when loading ends (SeqCst); the handler compares it with its own tid
    LOADER_TID.load(Ordering::SeqCst) != 0
}

fn push_what(m: &mut Msg) {
    // SYNC(root::loading#record): description length, Relaxed: read only on the writing thread
    let n = WHAT_LEN.load(Ordering::Relaxed).min(CAP);
    for b in &WHAT[..n] {
        // SYNC(root::loading#record): description bytes, Relaxed: read only on the writing thread (after LOADER_TID)
        m.push(&[b.load(Ordering::Relaxed)]);
    }
}

/// On the loading thread: says that `sig` (a fault, or `abort()`) hit while the task's
/// constructors ran. The caller then lets the signal end the process. Async-signal-safe.
pub(crate) fn report_fault(sig: i32) {
    // SYNC(root::loading#record): set after the description, cleared when loading ends (SeqCst); the handler compares it with its own tid
    if !active() || LOADER_TID.load(Ordering::SeqCst) != crate::sys::gettid() {
        return;
    }
    let mut m = Msg::new();
    m.push(b"pip: ");
    push_what(&mut m);
    m.push(b": ");
    m.push_signal(sig);
    m.push(b" while loading (in the program's constructors, which dlopen runs before its main); this ends the whole process\n");
    m.write_stderr();
}

/// A caught termination signal `sig` while a task is being loaded: says so, naming the task,
/// and returns true (the caller then ends the process with the signal's default action).
/// False when nothing is being loaded. Async-signal-safe.
pub(crate) fn report_interrupt(sig: i32) -> bool {
    if !active() {
        return false;
    }
    let mut m = Msg::new();
    m.push(b"pip: ");
    m.push_signal(sig);
    m.push(b" while loading ");
    push_what(&mut m);
    m.push(b", whose constructors have not returned: ending the process\n");
    m.write_stderr();
    true
}

/// A message built without allocating (for signal handlers).
pub(crate) struct Msg {
    buf: [u8; 640],
    len: usize,
}

impl Msg {
    /// An empty message.
    pub(crate) fn new() -> Msg {
        Msg {
            buf: [0; 640],
            len: 0,
        }
    }

    /// Appends bytes (what does not fit is dropped).
    pub(crate) fn push(&mut self, bytes: &[u8]) {
        let n = bytes.len().min(self.buf.len() - self.len);
        self.buf[self.len..self.len + n].copy_from_slice(&bytes[..n]);
        self.len += n;
    }

    /// Appends a number in decimal.
    pub(crate) fn push_num(&mut self, mut v: u64) {
        let mut digits = [0u8; 20];
        let mut i = digits.len();
        loop {
            i -= 1;
            digits[i] = b'0' + (v % 10) as u8;
            v /= 10;
            if v == 0 {
                break;
            }
        }
        self.push(&digits[i..]);
    }

    /// Appends a signal's name (`SIGSEGV`, or `signal N`).
    pub(crate) fn push_signal(&mut self, sig: i32) {
        match crate::signal_names::signal_str(sig) {
            Some(name) => self.push(name.as_bytes()),
            None => {
                self.push(b"signal ");
                self.push_num(sig.max(0) as u64);
            }
        }
    }

    fn bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// Writes the message to standard error (one `write`; errors are ignored).
    pub(crate) fn write_stderr(&self) {
        // SAFETY: write(2) from our own buffer; async-signal-safe.
        unsafe { libc::write(2, self.buf.as_ptr().cast(), self.len) };
    }
}
