//! Signals in thread mode: a fault or a signal aimed at one task ends only that task.
//!
//! In thread mode all tasks share the process's signal dispositions. `install` (run by
//! `Root::init`) puts one handler on the signals whose default action would end the process:
//!
//! * **Task faults** — `SIGSEGV`, `SIGBUS`, `SIGFPE`, `SIGILL`, `SIGTRAP`, `SIGSYS` raised by the
//!   kernel on a task's main thread, and any of the handled signals sent to that thread alone
//!   (`tgkill`, `raise`, `abort`, [`Root::kill`](crate::Root::kill)): the handler records
//!   [`ExitStatus::Signaled`](crate::ExitStatus::Signaled), tells the root and ends the thread
//!   with a raw `exit` system call (the only way out that is safe inside a signal handler; the
//!   kernel then wakes `pthread_join`). Nothing else of the task runs: no destructors, no after
//!   hook, unflushed stdio is lost. A kill that lands inside `malloc` or `free` waits for the
//!   call to finish when the root carries [`guard_allocator!`](crate::guard_allocator) (see
//!   [`crate::root::alloc_guard`]).
//! * **Signals for the process** (`kill(pid, SIGTERM)`, Ctrl-C) when the root asked to catch
//!   them ([`RootBuilder::catch_termination_signals`](crate::RootBuilder::catch_termination_signals)):
//!   recorded for the root, whose wait then returns [`Error::Interrupted`](crate::Error::Interrupted).
//!   The second one, or one that arrives while a task's constructors run inside `dlopen` (the
//!   root cannot act on it until they return), ends the process as it would have without
//!   pip-core, after a message.
//! * **A fault or `abort()` in a task's constructors** (on the root's thread, inside `dlopen`):
//!   the process ends as it would have without pip-core, after a message that names the task
//!   and the phase (`crate::root::loading`).
//! * Anything else gets what it would have got without pip-core: the previous handler (for
//!   example Rust's stack-overflow reporter) or the default action.
//!
//! A handler installed later by a task (say for `SIGUSR1`) replaces ours for the whole process,
//! as in any threaded program. Threads that a task creates itself are not tasks: a fault there
//! ends the process.
//!
//! # Handler state
//!
//! `ROOT_PID` is written once (Relaxed) by `install` in [`Root::init`](crate::Root::init),
//! before any task thread or process exists (their creation orders it before their reads). The
//! handlers a task or library had before ours are kept in `PREVIOUS`, stored (Release) when ours
//! is installed and loaded (Acquire) by the handler that forwards to them.

use std::sync::atomic::{AtomicI32, AtomicPtr, Ordering};
use std::sync::Once;

/// The pid of the process that installed the handler (the root): a process-mode task's child
/// runs the same handler code under another pid.
static ROOT_PID: AtomicI32 = AtomicI32::new(0);

/// True in a process of its own that shares the root's address space: a process-mode task's
/// child (not a forked copy, whose memory is its own).
pub(crate) fn shares_the_roots_memory() -> bool {
    const KCMP_VM: i32 = 1;
    let root = root_pid();
    // SAFETY: getpid cannot fail; kcmp only compares two processes' memory descriptors.
    unsafe {
        let me = libc::getpid();
        root != 0 && me != root && libc::syscall(libc::SYS_kcmp, me, root, KCMP_VM, 0, 0) == 0
    }
}

/// True if process `pid` (a process-mode task's child) has a handler for the
/// [`kill_signal`] and does not block it (from `/proc/PID/status`), so that the signal is sure
/// to arrive and end it. [`Root::kill`](crate::Root::kill) and `pips kill` send `SIGKILL`
/// itself otherwise.
///
/// ```
/// // This process installed no handler for it.
/// assert!(!pip_core::signals::handles_kill_signal(std::process::id() as i32));
/// ```
pub fn handles_kill_signal(pid: i32) -> bool {
    let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) else {
        return false;
    };
    let bit = 1u64 << (kill_signal() - 1);
    let mask = |key: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
    };
    matches!((mask("SigCgt:"), mask("SigBlk:")), (Some(c), Some(b)) if c & bit != 0 && b & bit == 0)
}

/// The root's pid (0 before `install`).
pub(crate) fn root_pid() -> i32 {
    // SYNC(root::signals#handler-state): written once before any task exists; thread/process creation orders it
    ROOT_PID.load(Ordering::Relaxed)
}

/// The signal [`Root::kill`](crate::Root::kill) sends for `SIGKILL` (which would kill the whole
/// process): `SIGRTMAX - 3`. The task is reported as killed by `SIGKILL`.
pub fn kill_signal() -> i32 {
    libc::SIGRTMAX() - 3
}

/// Signals ended in a task when the kernel raises them on it (faults).
const FAULTS: [i32; 6] = [
    libc::SIGSEGV,
    libc::SIGBUS,
    libc::SIGFPE,
    libc::SIGILL,
    libc::SIGTRAP,
    libc::SIGSYS,
];
/// Signals whose default action ends the process, handled when still at their default.
const TERMINATING: [i32; 13] = [
    libc::SIGABRT,
    libc::SIGHUP,
    libc::SIGINT,
    libc::SIGQUIT,
    libc::SIGTERM,
    libc::SIGUSR1,
    libc::SIGUSR2,
    libc::SIGALRM,
    libc::SIGVTALRM,
    libc::SIGPROF,
    libc::SIGXCPU,
    libc::SIGXFSZ,
    libc::SIGSTKFLT,
];

const NSIG: usize = 65;
/// The disposition each signal had before ours, to fall back on.
static PREVIOUS: [AtomicPtr<libc::sigaction>; NSIG] =
    [const { AtomicPtr::new(std::ptr::null_mut()) }; NSIG];

/// Installs the handler (once per process).
pub(crate) fn install() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // SAFETY: getpid cannot fail.
        // SYNC(root::signals#handler-state): written once before any task exists; thread/process creation orders it
        ROOT_PID.store(unsafe { libc::getpid() }, Ordering::Relaxed);
        let all = FAULTS
            .iter()
            .chain(TERMINATING.iter())
            .copied()
            .chain([kill_signal()]);
        for sig in all {
            // SAFETY: a zeroed sigaction is valid output space.
            let mut old: libc::sigaction = unsafe { std::mem::zeroed() };
            // SAFETY: sigaction with a null new action only reads the current one.
            unsafe { libc::sigaction(sig, std::ptr::null(), &mut old) };
            let is_fault = FAULTS.contains(&sig);
            if !is_fault && old.sa_sigaction != libc::SIG_DFL {
                continue; // The program handles or ignores it already: leave it alone.
            }
            // SYNC(root::signals#handler-state): the previous handler: Release when ours is installed, Acquire where it is forwarded to
            PREVIOUS[sig as usize].store(Box::into_raw(Box::new(old)), Ordering::Release);
            // SAFETY: a zeroed sigaction is valid; we fill in the handler, flags and mask.
            let mut new: libc::sigaction = unsafe { std::mem::zeroed() };
            new.sa_sigaction = handler as *const () as usize;
            new.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK | libc::SA_RESTART;
            // SAFETY: `new` is a valid action whose handler has the SA_SIGINFO signature.
            unsafe {
                libc::sigemptyset(&mut new.sa_mask);
                libc::sigaction(sig, &new, std::ptr::null_mut());
            }
        }
    });
}

/// In a process-mode task's child: gives back every disposition pip-core changed, so that the
/// task, a process of its own, gets the ordinary process behaviour (a fault or `SIGTERM` ends
/// just that process, which the root sees through `wait4`). The kill signal keeps pip-core's
/// handler, which ends the child with `SIGKILL` once it is outside the allocator.
pub(crate) fn restore_in_child() {
    for (sig, prev) in PREVIOUS.iter().enumerate() {
        if sig as i32 == kill_signal() {
            continue; // Kept: the root's SIGKILL reaches the child as the kill signal.
        }
        // SYNC(root::signals#handler-state): the previous handler: Release when ours is installed, Acquire where it is forwarded to
        let prev = prev.load(Ordering::Acquire);
        // SAFETY: PREVIOUS holds leaked sigaction records saved by `install`.
        if let Some(prev) = unsafe { prev.as_ref() } {
            // SAFETY: restoring a disposition this process had before `install`.
            unsafe { libc::sigaction(sig as i32, prev, std::ptr::null_mut()) };
        }
    }
}

/// True if the signal came from the kernel for this thread (a fault, si_code > 0) or was sent
/// to this thread alone (`tgkill`, `raise`: `SI_TKILL`).
fn thread_directed(info: &libc::siginfo_t) -> bool {
    const SI_TKILL: i32 = -6;
    info.si_code > 0 || info.si_code == SI_TKILL
}

extern "C" fn handler(sig: i32, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    if sig == kill_signal() {
        if crate::root::alloc_guard::defer_kill() {
            // Inside malloc or free: the kill is delivered again when the call is done (see
            // crate::root::alloc_guard), so that no allocator lock is left held.
            return;
        }
        // SAFETY: getpid cannot fail.
        let me = unsafe { libc::getpid() };
        // SYNC(root::signals#handler-state): written once before any task exists; thread/process creation orders it
        if me != ROOT_PID.load(Ordering::Relaxed) {
            // A process-mode task's child (see `Root::kill`): end its whole process, as the
            // SIGKILL it stands for would have.
            // SAFETY: kill(2) of our own process; async-signal-safe.
            unsafe { libc::kill(me, libc::SIGKILL) };
            return;
        }
    }
    // SAFETY: the kernel passes a valid siginfo for SA_SIGINFO handlers.
    let directed = unsafe { info.as_ref() }.is_some_and(thread_directed);
    if directed {
        if let Some(slot) = crate::root::current_task() {
            let reported = if sig == kill_signal() {
                libc::SIGKILL
            } else {
                sig
            };
            crate::root::end_task_from_signal(slot, reported);
        }
    }
    if sig == kill_signal() {
        return; // Aimed at a task that has already ended: nothing to do.
    }
    if !directed && !FAULTS.contains(&sig) && crate::root::interrupt(sig) {
        return;
    }
    if directed {
        // A fault or abort() on the thread that runs a task's constructors (inside dlopen):
        // name the task before the signal ends the process.
        crate::root::loading::report_fault(sig);
    }
    fall_back(sig, info, ctx);
}

/// Does what would have happened without pip-core.
fn fall_back(sig: i32, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    // SYNC(root::signals#handler-state): the previous handler: Release when ours is installed, Acquire where it is forwarded to
    let prev = PREVIOUS[sig as usize].load(Ordering::Acquire);
    // SAFETY: PREVIOUS holds leaked, never-freed sigaction records.
    if let Some(prev) = unsafe { prev.as_ref() } {
        let h = prev.sa_sigaction;
        if h != libc::SIG_DFL && h != libc::SIG_IGN {
            if prev.sa_flags & libc::SA_SIGINFO != 0 {
                // SAFETY: the previous SA_SIGINFO handler has this signature.
                let f: extern "C" fn(i32, *mut libc::siginfo_t, *mut libc::c_void) =
                    unsafe { std::mem::transmute(h) };
                f(sig, info, ctx);
            } else {
                // SAFETY: a plain handler takes the signal number.
                let f: extern "C" fn(i32) = unsafe { std::mem::transmute(h) };
                f(sig);
            }
            return;
        }
        if h == libc::SIG_IGN {
            return;
        }
    }
    // Default action: restore it, and let the signal take effect. A fault re-executes the
    // faulting instruction on return; anything else is raised again (it stays pending until
    // this handler returns, since it is blocked while we run).
    // SAFETY: resetting to SIG_DFL and raising are async-signal-safe.
    unsafe {
        libc::signal(sig, libc::SIG_DFL);
        if !FAULTS.contains(&sig) || (*info).si_code <= 0 {
            libc::raise(sig);
        }
    }
}

/// Gives the calling thread an alternate signal stack, so that a stack overflow still reaches
/// the handler. Returns the mapping to free once the thread has ended.
pub(crate) fn alt_stack() -> Option<(usize, usize)> {
    let size = 64 * 1024;
    // SAFETY: an anonymous private mapping; checked for failure.
    let p = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            size,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if p == libc::MAP_FAILED {
        return None;
    }
    let st = libc::stack_t {
        ss_sp: p,
        ss_flags: 0,
        ss_size: size,
    };
    // SAFETY: `st` describes the mapping we own.
    unsafe { libc::sigaltstack(&st, std::ptr::null_mut()) };
    Some((p as usize, size))
}
