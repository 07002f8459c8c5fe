//! Process mode: the task thread becomes the host of a process that shares the root's
//! address space (see the process-mode section below and `docs/architecture.md`).

use super::*;

// --- Process mode ------------------------------------------------------------------------------
//
// The task thread becomes a *host*: it clones a child with CLONE_VM | CLONE_SETTLS, giving the
// child its own thread pointer (FS base), i.e. its own glibc thread control block and TLS, and
// then blocks in wait4 until the child ends. The child is a process (own pid, fd table, fs info,
// signal dispositions) in the root's address space. Because the host never runs while the child
// lives, glibc sees one consistent "thread" using that TCB. The child must never leave through
// glibc's thread exit (pthread_exit would tear down the host's TCB): it ends with
// `exit_group` at the end of `child_main` or calls `_exit`, which ends every thread the task
// created as well.

/// The host side: clone the child, publish RUNNING, wait for it, record how it ended.
pub(super) fn host_process_task(start: &mut TaskStart) {
    let slot = start.slot;
    let guard_size = 4096;
    // Leaves room for the guard page and the alignment of the top (an absurd Spawn::stack_size
    // then fails to map, with ENOMEM, instead of overflowing).
    let stack_size = start.stack_size.min(usize::MAX / 2);
    // SAFETY: an anonymous private mapping for the child's stack, checked for failure.
    let stack = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            stack_size + guard_size,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_STACK,
            -1,
            0,
        )
    };
    if stack == libc::MAP_FAILED {
        let e = std::io::Error::last_os_error()
            .raw_os_error()
            .unwrap_or(libc::ENOMEM);
        setup_failed(slot, SetupStep::Stack, e);
        return;
    }
    // SAFETY: the lowest page of our own mapping becomes the guard page.
    unsafe { libc::mprotect(stack, guard_size, libc::PROT_NONE) };
    let mut fs_base: libc::c_ulong = 0;
    // SAFETY: ARCH_GET_FS writes the calling thread's FS base (its thread pointer).
    unsafe {
        libc::syscall(
            libc::SYS_arch_prctl,
            0x1003, /* ARCH_GET_FS */
            &mut fs_base,
        )
    };
    let keys = HostKeys::save();
    let top = (stack as usize + stack_size + guard_size) & !15;
    // SAFETY: clone with our own stack and this thread's TLS; `start` stays alive (this frame
    // owns it) until wait4 below has seen the child end.
    let pid = unsafe {
        libc::clone(
            child_main,
            top as *mut c_void,
            libc::CLONE_VM | libc::CLONE_SETTLS | libc::SIGCHLD,
            start as *mut TaskStart as *mut c_void,
            std::ptr::null_mut::<libc::pid_t>(),
            fs_base as *mut c_void,
            std::ptr::null_mut::<libc::pid_t>(),
        )
    };
    if pid < 0 {
        let e = std::io::Error::last_os_error()
            .raw_os_error()
            .unwrap_or(libc::EIO);
        // SAFETY: the mapping is ours and unused.
        unsafe { libc::munmap(stack, stack_size + guard_size) };
        setup_failed(slot, SetupStep::Clone, e);
        return;
    }
    // SYNC(root#slot-fields): written before RUNNING (Release), which the root acquires before reading it
    slot.tid.store(pid, Ordering::Release);
    // SYNC(root#slot-fields): RUNNING / SETUP_FAILED (Release) publishes the fields written before it to the root's Acquire load in `spawn`
    slot.state.store(RUNNING, Ordering::Release);
    futex_wake(&slot.state, 1);

    let mut status = 0;
    let ended = loop {
        // SAFETY: waits for our own child; __WALL because its exit signal may not be SIGCHLD's
        // default handling in every root.
        let r = unsafe { libc::wait4(pid, &mut status, libc::__WALL, std::ptr::null_mut()) };
        if r == pid {
            break Some(status);
        }
        if r < 0 && std::io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
            break None; // ECHILD: the root ignores SIGCHLD, so the child was reaped for us.
        }
    };
    keys.restore();
    // SAFETY: the child has ended, so nobody uses its stack.
    unsafe { libc::munmap(stack, stack_size + guard_size) };
    let status = match ended {
        Some(st) if libc::WIFSIGNALED(st) => ExitStatus::Signaled(libc::WTERMSIG(st)),
        Some(st) => ExitStatus::Exited(libc::WEXITSTATUS(st)),
        None => ExitStatus::Exited(0),
    };
    slot.record(status);
    CURRENT_TASK.with(|c| c.set(std::ptr::null()));
    slot.publish_finished();
    if status.signal().is_some() {
        // The child used this thread's TLS, and so its malloc arena and tcache: killed in the
        // middle of malloc, it left that arena locked. Any free on this thread now (dropping
        // `start`, glibc's tcache shutdown at thread exit) could wait for that lock forever,
        // so the host ends at once, like a thread-mode task ending on a fatal signal; the
        // arena, still attached to this thread, is never handed to another one.
        crate::sys::exit_thread_now();
    }
}

/// The host thread's `pthread_setspecific` values, saved before the child starts and put back
/// once it has ended. The child shares the host's thread control block, so the values the task
/// sets (libgomp sets one whose destructor docks and joins its worker threads) land in the
/// host's slots, and glibc would run their destructors when the host thread ends. The task's
/// process has ended by then, its threads with it (a normal process runs no key destructors at
/// exit either): libgomp's destructor would wait forever for workers that no longer exist. So
/// the host drops the task's values (what they point to is left in place, like the rest of an
/// ended task's memory) and keeps its own.
struct HostKeys(Vec<*mut c_void>);

impl HostKeys {
    /// glibc's `PTHREAD_KEYS_MAX`, if `sysconf` does not say.
    const GLIBC_KEYS_MAX: usize = 1024;

    fn count() -> usize {
        // SAFETY: sysconf has no preconditions.
        let n = unsafe { libc::sysconf(libc::_SC_THREAD_KEYS_MAX) };
        if n > 0 {
            n as usize
        } else {
            Self::GLIBC_KEYS_MAX
        }
    }

    /// Reads every key's value for the calling (host) thread.
    fn save() -> HostKeys {
        HostKeys(
            (0..Self::count())
                // SAFETY: glibc's pthread_getspecific accepts any key number: one never
                // created, deleted or out of range reads as NULL.
                .map(|k| unsafe { libc::pthread_getspecific(k as libc::pthread_key_t) })
                .collect(),
        )
    }

    /// Puts back, on the same thread, every value the child changed.
    fn restore(&self) {
        for (k, &saved) in self.0.iter().enumerate() {
            let key = k as libc::pthread_key_t;
            // SAFETY: as in `save`; pthread_setspecific of a key that does not exist (any more)
            // fails with EINVAL and changes nothing. Storing NULL never allocates, and a saved
            // non-NULL value goes back where glibc already had room for it, so nothing here
            // takes the allocator's locks.
            unsafe {
                if libc::pthread_getspecific(key) != saved {
                    libc::pthread_setspecific(key, saved);
                }
            }
        }
    }
}

/// The child side: a process of its own in the shared address space.
extern "C" fn child_main(arg: *mut c_void) -> c_int {
    // SAFETY: `arg` is the host's TaskStart, alive until the host's wait4 returns.
    let start = unsafe { &mut *(arg as *mut TaskStart) };
    crate::root::signals::restore_in_child();
    end_with_the_root();
    register_rseq();
    close_cloexec_fds();
    // The child has its own thread id: it, not the host thread, is the task now.
    set_current_task(start.slot);
    // SYNC(root#slot-fields): written before the entry (Release), read on this process's own thread
    start.slot.process_start.store(arg, Ordering::Release);
    let code = run_task(start);
    // The entry returned: the task's exit handlers run in its process, under its pid.
    // SYNC(root#slot-fields): written by the root before this thread was created
    super::exit_handlers::run(start.slot.exit_key.load(Ordering::Acquire), code);
    let code = after_and_flush(start, code);
    end_task_process(code)
}

/// Ends the task's process with `code` once its main has returned, whatever its other threads
/// (ones the task created, such as libgomp's workers) are doing, as a normal process ends when
/// `main` returns. Returning from `child_main` would not do: glibc's `clone` then calls
/// `exit`, the system call that ends only the calling thread, so a task with threads left
/// would never end and the host's `wait4` would block forever. `exit_group` ends every thread
/// of the task's own thread group (the child's, never the root's: the child is a process of its
/// own, cloned without `CLONE_THREAD`), and the host's `wait4` then reports `code` as for any
/// other ending. Deliberately `exit_group` rather than libc's `_exit`, so that nothing of
/// libc's runs on the borrowed thread control block; the task's own clean-up (after hook,
/// stdio flush) is done by now.
fn end_task_process(code: c_int) -> ! {
    loop {
        // SAFETY: ends the calling process (the task's child), not the root; does not return.
        unsafe { libc::syscall(libc::SYS_exit_group, code) };
    }
}

/// Makes the child die with the root: a process-mode task is a process of its own, so a root
/// that is killed (or aborts) would otherwise leave it running, in an address space nobody
/// waits for any more. `PR_SET_PDEATHSIG` fires when the host thread ends, which it does only
/// after the child, or with the whole root.
fn end_with_the_root() {
    let root = crate::root::signals::root_pid();
    // SAFETY: getppid cannot fail; prctl(PR_SET_PDEATHSIG) only sets a per-process value.
    unsafe {
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
        if libc::getppid() != root {
            // The root ended before the request took effect.
            libc::_exit(128 + libc::SIGKILL);
        }
    }
}

/// Registers, for the child, the restartable-sequences area glibc keeps in the borrowed thread
/// control block. The kernel's registration is per task, and the child starts with none, so
/// without this glibc's `sched_getcpu()` in the task would read the CPU the host thread last ran
/// on. The host stays registered on the same area; it is blocked in `wait4` meanwhile, and the
/// kernel refreshes the area when it runs again.
fn register_rseq() {
    // glibc >= 2.35 publishes where its area sits (offset from the thread pointer) and its size.
    // SAFETY: dlsym with RTLD_DEFAULT and valid names.
    let (off, size) = unsafe {
        (
            libc::dlsym(libc::RTLD_DEFAULT, c"__rseq_offset".as_ptr()) as *const isize,
            libc::dlsym(libc::RTLD_DEFAULT, c"__rseq_size".as_ptr()) as *const u32,
        )
    };
    if off.is_null() || size.is_null() {
        return;
    }
    // SAFETY: both symbols are glibc's read-only data of these types.
    let (off, size) = unsafe { (*off, *size) };
    if size == 0 {
        return; // glibc did not register rseq (disabled by a tunable): nothing to mirror.
    }
    let mut tp: libc::c_ulong = 0;
    // SAFETY: ARCH_GET_FS writes this task's thread pointer (the host's TCB, set by CLONE_SETTLS).
    unsafe {
        libc::syscall(libc::SYS_arch_prctl, 0x1003 /* ARCH_GET_FS */, &mut tp)
    };
    let area = (tp as isize + off) as *mut c_void;
    const RSEQ_SIG: u32 = 0x5305_3053;
    // SAFETY: registers glibc's own rseq area of this TCB (32 bytes, the original struct rseq)
    // for the calling task only; failure just leaves the task unregistered.
    unsafe { libc::syscall(libc::SYS_rseq, area, 32u32, 0, RSEQ_SIG) };
}

/// Closes the descriptors marked close-on-exec, as PiP's process mode does (a task starts as if
/// the root had exec'd it).
fn close_cloexec_fds() {
    let Ok(dir) = std::fs::read_dir("/proc/self/fd") else {
        return;
    };
    let fds: Vec<i32> = dir
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    for fd in fds {
        // SAFETY: F_GETFD on a number that may or may not be open; close only our own
        // (this process's) close-on-exec descriptors.
        unsafe {
            let flags = libc::fcntl(fd, libc::F_GETFD);
            if flags >= 0 && flags & libc::FD_CLOEXEC != 0 {
                libc::close(fd);
            }
        }
    }
}
