//! The bookkeeping shared by the root, its tasks' threads and the signal handler: one
//! [`TaskSlot`] per pipid, and the [`RootState`] that owns them (see the protocol in
//! [`super`]).

use super::*;

pub(super) const FREE: u32 = 0;
pub(super) const STARTING: u32 = 1;
pub(super) const RUNNING: u32 = 2;
pub(super) const FINISHED: u32 = 3;
pub(super) const WAITED: u32 = 4;
pub(super) const SETUP_FAILED: u32 = 5;

/// The set-up step of a task that failed (what `Root::spawn`'s error names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub(super) enum SetupStep {
    Core = 0,
    Unshare = 1,
    Chdir = 2,
    Stack = 3,
    Clone = 4,
}

impl SetupStep {
    pub(super) fn from_u32(v: u32) -> SetupStep {
        match v {
            0 => SetupStep::Core,
            1 => SetupStep::Unshare,
            2 => SetupStep::Chdir,
            3 => SetupStep::Stack,
            _ => SetupStep::Clone,
        }
    }

    /// What was being done, for the error message.
    pub(super) fn op(self) -> &'static str {
        match self {
            SetupStep::Core => "pinning the task to its CPU core",
            SetupStep::Unshare => "giving the task a private fd table or cwd (unshare)",
            SetupStep::Chdir => "changing to the task's working directory",
            SetupStep::Stack => {
                "mapping the task's stack (is PIP_STACKSIZE or Spawn::stack_size too large?)"
            }
            SetupStep::Clone => "creating the task's process (clone)",
        }
    }
}

pub(super) const ST_NONE: u32 = 0;
pub(super) const ST_EXITED: u32 = 1;
pub(super) const ST_SIGNALED: u32 = 2;
pub(super) const ST_PANICKED: u32 = 3;

/// One task's record. Written by the task thread (status, tid, state) and by the root.
pub(crate) struct TaskSlot {
    pub(super) pipid: usize,
    pub(super) state: AtomicU32,
    pub(super) status_kind: AtomicU32,
    pub(super) status_value: AtomicI32,
    pub(super) setup_errno: AtomicI32,
    /// The [`SetupStep`] that failed.
    pub(super) setup_step: AtomicU32,
    pub(super) tid: AtomicI32,
    pub(super) export: AtomicPtr<c_void>,
    pub(super) aux: AtomicPtr<c_void>,
    /// The task thread (a `pthread_t`), for joining.
    pub(super) thread: AtomicUsize,
    /// The alternate signal stack (address, size), freed after the join.
    pub(super) alt_stack: Mutex<Option<(usize, usize)>>,
    /// The program, for messages.
    pub(super) program: Mutex<String>,
    /// Process mode: the child's `TaskStart`, while the child runs (for `exit()`).
    pub(super) process_start: AtomicPtr<c_void>,
    /// A Rust task's `pip_rs_task_exit` (0 for C tasks): how `exit()` ends the task.
    pub(super) rust_exit: AtomicUsize,
    /// Shared-libc isolation: the key of the task image's exit handlers (its memfd number; -1
    /// for none), run when the task ends (see [`super::exit_handlers`]).
    pub(super) exit_key: AtomicI32,
    pub(super) root: *const RootState,
}

impl TaskSlot {
    /// Records how the task ended, unless a status was already recorded (a panic recorded
    /// before the entry returned 101 stays a panic).
    pub(super) fn record(&self, st: ExitStatus) {
        let (kind, value) = match st {
            ExitStatus::Exited(c) => (ST_EXITED, c),
            ExitStatus::Signaled(s) => (ST_SIGNALED, s),
            ExitStatus::Panicked => (ST_PANICKED, 101),
        };
        // SYNC(root#slot-fields): the status is claimed once (the first ending wins, AcqRel); the value and FINISHED follow it
        if self
            .status_kind
            .compare_exchange(ST_NONE, kind, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
        {
            // SYNC(root#slot-fields): written before FINISHED (Release); read after it (Acquire)
            self.status_value.store(value, Ordering::Release);
        }
    }

    pub(super) fn status(&self) -> ExitStatus {
        // SYNC(root#slot-fields): written before FINISHED (Release); read after it (Acquire)
        let v = self.status_value.load(Ordering::Acquire);
        // SYNC(root#slot-fields): the status is claimed once (first ending wins); pairs with the root's Acquire read after FINISHED
        match self.status_kind.load(Ordering::Acquire) {
            ST_SIGNALED => ExitStatus::Signaled(v),
            ST_PANICKED => ExitStatus::Panicked,
            _ => ExitStatus::Exited(v),
        }
    }

    /// Publishes the end of the task and wakes the root and blocked importers.
    /// Async-signal-safe (only atomics and futex wakes).
    pub(super) fn publish_finished(&self) {
        // SYNC(root#slot-fields): FINISHED (Release) publishes the status to the root's Acquire load
        self.state.store(FINISHED, Ordering::Release);
        // SAFETY: the RootState outlives every task (it is leaked).
        let root = unsafe { &*self.root };
        // SYNC(root#events-and-exports): bumped (SeqCst) after the slot's FINISHED store; pairs with the waiters' read before their scan
        root.events.fetch_add(1, Ordering::SeqCst);
        futex_wake(&root.events, i32::MAX);
        // SYNC(root#events-and-exports): bumped (SeqCst) by an ending task so that importers from it re-check; pairs with their read before the look-up
        root.exports_seq.fetch_add(1, Ordering::SeqCst);
        futex_wake(&root.exports_seq, i32::MAX);
    }
}

// SAFETY: the raw `root` pointer is to a leaked, immutable-after-init RootState; every other
// field is atomic or behind a Mutex.
unsafe impl Sync for TaskSlot {}
// SAFETY: as above.
unsafe impl Send for TaskSlot {}

/// Root-side state, shared with tasks through its first field (the ABI block).
#[repr(C)]
pub(super) struct RootState {
    pub(super) abi: RootAbi,
    pub(super) isolation: Isolation,
    pub(super) tasks: Box<[TaskSlot]>,
    pub(super) events: AtomicU32,
    pub(super) exports_seq: AtomicU32,
    pub(super) named: Mutex<HashMap<(c_int, String), usize>>,
    pub(super) interrupt: AtomicI32,
    pub(super) catch_termination: bool,
    /// Termination signals caught so far (the second one ends the process).
    pub(super) interrupts: AtomicU32,
    pub(super) mode: Mode,
    /// The job's `PIP_*` settings.
    pub(super) env: super::env::JobEnv,
    /// The job's wait board (see [`crate::waits`]), if it could be created.
    pub(super) board: Mutex<Option<crate::waits::Board>>,
}

impl RootState {
    /// Sends `signal` to one running task: `kill(2)` of its process in process mode; in thread
    /// mode `tgkill` of its thread, with `SIGKILL` replaced by the kill signal (see
    /// [`crate::root::signals::kill_signal`]).
    pub(super) fn signal_task(&self, slot: &TaskSlot, signal: i32) -> std::io::Result<()> {
        // SYNC(root#slot-fields): written by the task thread before RUNNING; read after it
        let target = slot.tid.load(Ordering::Acquire);
        if self.mode == Mode::Process {
            // SIGKILL goes as the kill signal to the child's main thread, whose handler waits
            // for the end of an allocator call and then kills the child with SIGKILL (see
            // crate::root::alloc_guard); but only if that signal can get through, else SIGKILL
            // itself, which always can.
            let r = if signal == libc::SIGKILL && crate::root::signals::handles_kill_signal(target)
            {
                let sig = crate::root::signals::kill_signal();
                // SAFETY: tgkill of the child's main thread (its tid is its pid).
                unsafe { libc::syscall(libc::SYS_tgkill, target, target, sig) as i32 }
            } else {
                // SAFETY: plain kill(2) of the task's own process.
                unsafe { libc::kill(target, signal) }
            };
            match r {
                0 => Ok(()),
                _ => Err(std::io::Error::last_os_error()),
            }
        } else {
            let sig = if signal == libc::SIGKILL {
                crate::root::signals::kill_signal()
            } else {
                signal
            };
            crate::sys::tgkill(target, sig)
        }
    }

    pub(super) fn slot(&self, pipid: c_int) -> Option<&TaskSlot> {
        usize::try_from(pipid).ok().and_then(|p| self.tasks.get(p))
    }
}

thread_local! {
    /// The task whose main thread this is (null on every other thread). Read it through
    /// [`current_task`], which also checks [`CURRENT_TID`].
    pub(super) static CURRENT_TASK: Cell<*const TaskSlot> = const { Cell::new(std::ptr::null()) };
    /// The kernel thread id that [`set_current_task`] ran on. A process that a task forks starts
    /// as a copy of the task's thread, `CURRENT_TASK` included, but under another thread id: it
    /// is an ordinary process, not the task (its `exit()` is the real `exit`, its faults are its
    /// own). Checking the id rather than clearing the marker in a `pthread_atfork` handler also
    /// covers a fork through a namespace task's private libc and a raw `clone`.
    static CURRENT_TID: Cell<i32> = const { Cell::new(0) };
}

/// Marks the calling thread as `slot`'s task (its main thread, or a process-mode task's child,
/// which runs on the host thread's thread-local storage under its own id).
pub(super) fn set_current_task(slot: &TaskSlot) {
    CURRENT_TID.with(|t| t.set(gettid()));
    CURRENT_TASK.with(|c| c.set(slot));
}

/// The live root of this process, if any.
pub(super) static LIVE_ROOT: AtomicPtr<RootState> = AtomicPtr::new(std::ptr::null_mut());

/// The task whose main thread (or process-mode child) calls this, if any: `None` on other
/// threads and in a process that a task forked. Async-signal-safe.
pub(crate) fn current_task() -> Option<&'static TaskSlot> {
    let p = CURRENT_TASK.with(|c| c.get());
    if p.is_null() || CURRENT_TID.with(|t| t.get()) != gettid() {
        return None;
    }
    // SAFETY: slots live in leaked RootStates.
    unsafe { p.as_ref() }
}

/// In a process that a task's main thread forked (an ordinary process with a copy of the
/// memory): the task it was forked from. Its `exit()` runs that task's exit handlers, as a
/// forked copy of a program runs the program's.
pub(super) fn forked_from_task() -> Option<&'static TaskSlot> {
    let p = CURRENT_TASK.with(|c| c.get());
    if p.is_null() || CURRENT_TID.with(|t| t.get()) == gettid() {
        return None;
    }
    // SAFETY: slots live in leaked RootStates (copied along with the memory by fork).
    unsafe { p.as_ref() }
}

/// Called by the signal handler on a task's main thread: records `sig`, tells the root, and ends
/// the thread. Async-signal-safe.
pub(crate) fn end_task_from_signal(slot: &TaskSlot, sig: i32) -> ! {
    slot.record(ExitStatus::Signaled(sig));
    CURRENT_TASK.with(|c| c.set(std::ptr::null()));
    slot.publish_finished();
    crate::sys::exit_thread_now()
}

/// Called by the signal handler for a termination signal sent to the process: if the live root
/// catches them, records it and wakes the root's waits. Returns false (the signal then takes
/// its default action, ending the process) when the root does not catch them, for the second
/// one, while a task is being loaded (the root cannot see it until `dlopen` returns), and in a
/// process that a task forked (there the root is only a copy that nobody waits on, and the
/// signal must have its ordinary effect). Async-signal-safe.
pub(crate) fn interrupt(sig: i32) -> bool {
    // SAFETY: getpid cannot fail.
    if unsafe { libc::getpid() } != crate::root::signals::root_pid() {
        return false;
    }
    // SYNC(root#the-live-root): Acquire pairs with the AcqRel compare-exchange of Root::init (see the live root)
    let root = LIVE_ROOT.load(Ordering::Acquire);
    // SAFETY: RootStates are leaked, so the pointer stays valid.
    match unsafe { root.as_ref() } {
        Some(r) if r.catch_termination => {
            if crate::root::loading::report_interrupt(sig) {
                return false;
            }
            // SYNC(root#events-and-exports): counts termination signals: the first is caught, a second ends the process
            if r.interrupts.fetch_add(1, Ordering::SeqCst) > 0 {
                let mut m = crate::root::loading::Msg::new();
                m.push(b"pip: ");
                m.push_signal(sig);
                m.push(b" again: ending the process now\n");
                m.write_stderr();
                return false;
            }
            // SYNC(root#events-and-exports): the caught signal, stored before `events` is bumped (SeqCst both), taken by the root's waits
            r.interrupt.store(sig, Ordering::SeqCst);
            // SYNC(root#events-and-exports): bumped (SeqCst) after the slot's FINISHED store; pairs with the waiters' read before their scan
            r.events.fetch_add(1, Ordering::SeqCst);
            futex_wake(&r.events, i32::MAX);
            true
        }
        _ => false,
    }
}
