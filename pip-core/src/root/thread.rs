//! The task thread: set-up, the entry call, and how the thread ends (see the protocol in
//! [`super`]).

use super::ops::op_task_exit;
use super::state::*;
use super::*;

/// The start-up steps of a task, in the order the code takes them (the list in the
/// [module docs of `root`](super#life-of-a-task-thread-mode) names them by these variants, so
/// renaming or removing one breaks the documentation build). Each is marked in the code with
/// [`TaskStart::step`], which checks the order in debug builds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum StartStep {
    /// The thread names itself (`pip:N:program`, as `ps -L` and `pips` show it).
    NameThread,
    /// Thread mode: it records its tid and its alternate signal stack.
    RecordTid,
    /// Its CPU core, `unshare` and `chdir` ([`TaskStart::setup`]); a failure publishes
    /// `SETUP_FAILED` with the [`SetupStep`].
    Setup,
    /// It publishes `RUNNING` (Release) and wakes the root, which waits for this before
    /// `spawn` returns (so `kill` always has a tid). In process mode the host does this once
    /// the child exists.
    PublishRunning,
    /// Namespace isolation: the task's private libc is initialised (ctype tables, `environ`).
    NamespaceLibc,
    /// The spawn's before hook.
    BeforeHook,
    /// `PIP_STOP_ON_START`: the task stops itself for a debugger.
    StopOnStart,
    /// A Rust task gets its context (`pip_rs_task_attach`).
    Attach,
    /// The entry is called.
    Entry,
}

/// Everything the task thread needs, handed over through `pthread_create`.
pub(crate) struct TaskStart {
    slot: &'static TaskSlot,
    root: &'static RootState,
    image: Image,
    spawn: Spawn,
    argv: Vec<*const c_char>,
    envp: Vec<*const c_char>,
    /// Process mode: the child's stack size.
    stack_size: usize,
    /// The last [`StartStep`] taken.
    last_step: Option<StartStep>,
}

/// Leaks a C string made of `parts` (bytes; a NUL byte, which C cannot carry, is dropped):
/// argv and env strings must outlive the task (tasks keep pointers to them).
fn leak(parts: &[&[u8]]) -> *const c_char {
    let bytes: Vec<u8> = parts.concat().into_iter().filter(|&b| b != 0).collect();
    CString::new(bytes)
        .expect("NUL bytes were removed")
        .into_raw()
}

impl TaskStart {
    pub(super) fn new(
        slot: &TaskSlot,
        image: Image,
        spawn: Spawn,
        root: &'static RootState,
        stack_size: usize,
    ) -> TaskStart {
        use std::os::unix::ffi::OsStrExt;
        let mut argv: Vec<*const c_char> = std::iter::once(spawn.program.as_os_str())
            .chain(spawn.args.iter().map(|a| a.as_os_str()))
            .map(|a| leak(&[a.as_bytes()]))
            .collect();
        argv.push(std::ptr::null());
        let mut envp: Vec<*const c_char> = spawn
            .environment()
            .iter()
            .map(|(k, v)| leak(&[k.as_bytes(), b"=", v.as_bytes()]))
            .collect();
        envp.push(std::ptr::null());
        // SAFETY: `slot` lives in the leaked RootState.
        let slot: &'static TaskSlot = unsafe { &*(slot as *const TaskSlot) };
        TaskStart {
            slot,
            root,
            image,
            spawn,
            argv,
            envp,
            stack_size,
            last_step: None,
        }
    }

    /// Marks the start-up step the code takes next; checks in debug builds that the steps
    /// come in the order [`StartStep`] declares.
    fn step(&mut self, step: StartStep) {
        debug_assert!(
            self.last_step.is_none_or(|last| last < step),
            "start-up step {step:?} after {:?}",
            self.last_step
        );
        self.last_step = Some(step);
    }

    /// Applies the CPU core, private fd table and cwd. Runs before the root's `spawn` returns.
    fn setup(&self) -> std::result::Result<(), (SetupStep, i32)> {
        let errno = || {
            std::io::Error::last_os_error()
                .raw_os_error()
                .unwrap_or(libc::EIO)
        };
        if let Some(core) = self.spawn.core {
            // SAFETY: a zeroed cpu_set_t is empty; CPU_SET checks nothing, so bound `core`.
            unsafe {
                let mut set: libc::cpu_set_t = std::mem::zeroed();
                if core >= libc::CPU_SETSIZE as usize {
                    return Err((SetupStep::Core, libc::EINVAL));
                }
                libc::CPU_SET(core, &mut set);
                if libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) != 0 {
                    return Err((SetupStep::Core, errno()));
                }
            }
        }
        let mut flags = 0;
        if self.spawn.private_fds {
            flags |= libc::CLONE_FILES;
        }
        if self.spawn.cwd.is_some() {
            flags |= libc::CLONE_FS;
        }
        // SAFETY: unshare on the calling thread only affects this thread's fd table / fs info.
        if flags != 0 && unsafe { libc::unshare(flags) } != 0 {
            return Err((SetupStep::Unshare, errno()));
        }
        if let Some(cwd) = &self.spawn.cwd {
            std::env::set_current_dir(cwd)
                .map_err(|e| (SetupStep::Chdir, e.raw_os_error().unwrap_or(libc::EIO)))?;
        }
        Ok(())
    }
}

/// Runs the after hook and flushes the task's stdio; returns the final exit code (a failing
/// after hook replaces an exit code of 0). Used when a task returns or calls `exit()`.
pub(super) fn after_and_flush(start: &mut TaskStart, code: c_int) -> c_int {
    let mut code = code;
    if let Some(after) = start.spawn.after.take() {
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(after)).unwrap_or(1);
        if r != 0 && code == 0 {
            code = r;
        }
    }
    // SAFETY: the flush functions belong to this task's image or libc and take no
    // arguments (fflush(NULL) flushes every stream of that libc).
    unsafe {
        if let Some(flush) = start.image.flush {
            flush();
        }
        match start.image.ns.and_then(|ns| ns.fflush) {
            Some(fflush) => {
                fflush(std::ptr::null_mut());
            }
            None => {
                libc::fflush(std::ptr::null_mut());
            }
        }
    }
    code
}

/// Thread mode: runs when the task's thread leaves its entry normally or by `exit()` (forced
/// unwind): after hook, stdio flush, then `FINISHED`.
struct Finish<'a> {
    start: &'a mut TaskStart,
}

impl Drop for Finish<'_> {
    fn drop(&mut self) {
        let slot = self.start.slot;
        let recorded = slot.status();
        let code = recorded.code().unwrap_or(0);
        let after = after_and_flush(self.start, code);
        if after != code && recorded == ExitStatus::Exited(0) {
            // SYNC(root#slot-fields): written before FINISHED (Release)
            slot.status_value.store(after, Ordering::Release);
        }
        slot.record(ExitStatus::Exited(0));
        CURRENT_TASK.with(|c| c.set(std::ptr::null()));
        slot.publish_finished();
    }
}

/// `on_exit` handler for a namespace task's private libc: its `exit()` ends only the task.
unsafe extern "C-unwind" fn ns_on_exit(code: c_int, _arg: *mut c_void) {
    // Returns only when called on a thread that is not a task's main thread.
    // SAFETY: no ABI block is needed by op_task_exit.
    unsafe { op_task_exit(std::ptr::null(), code) };
}

/// Runs the task's code: namespace libc set-up, before hook, `PIP_STOP_ON_START`, attach, and
/// the entry. Returns the exit code. On the task thread (thread mode) or in the task's child
/// process (process mode).
fn run_task(start: &mut TaskStart) -> c_int {
    let slot = start.slot;
    let pipid = slot.pipid as c_int;
    start.step(StartStep::NamespaceLibc);
    if let Some(ns) = start.image.ns {
        // SAFETY: the namespace libc's own symbols; `environ` is its `char **environ`.
        unsafe {
            if let Some(ci) = ns.ctype_init {
                ci();
            }
            if !ns.environ.is_null() {
                *ns.environ = start.envp.as_ptr();
            }
            if let Some(on_exit) = ns.on_exit {
                on_exit(ns_on_exit, std::ptr::null_mut());
            }
        }
    }
    start.step(StartStep::BeforeHook);
    if let Some(before) = start.spawn.before.take() {
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(before)).unwrap_or(1);
        if r != 0 {
            return r;
        }
    }
    start.step(StartStep::StopOnStart);
    stop_on_start(start.root.env.stop_on_start, slot.pipid);
    if let Some(exit) = start.image.exit {
        // SYNC(root#slot-fields): written before the entry runs, read on this task's own thread
        slot.rust_exit.store(exit as usize, Ordering::Release);
    }
    start.step(StartStep::Attach);
    if let Some(attach) = start.image.attach {
        // SAFETY: a pip-rs task's attach function (ABI checked at load); argv/envp are
        // null-terminated and leaked.
        let rc = unsafe {
            attach(
                &start.root.abi,
                pipid,
                start.argv.as_ptr(),
                start.envp.as_ptr(),
            )
        };
        if rc != 0 {
            return 127;
        }
    }
    start.step(StartStep::Entry);
    match &start.spawn.function {
        Some((_, arg)) => {
            // SAFETY: the entry is `int f(void *)`, as the spawn asked for a start function.
            let f: unsafe extern "C-unwind" fn(*mut c_void) -> c_int =
                unsafe { std::mem::transmute(start.image.entry) };
            // SAFETY: calling the task's entry with the argument given at spawn.
            unsafe { f(*arg as *mut c_void) }
        }
        None => {
            // SAFETY: the entry is `int main(int, char **, char **)`.
            let f: unsafe extern "C-unwind" fn(
                c_int,
                *const *const c_char,
                *const *const c_char,
            ) -> c_int = unsafe { std::mem::transmute(start.image.entry) };
            // SAFETY: argv and envp are null-terminated arrays of leaked C strings.
            unsafe {
                f(
                    (start.argv.len() - 1) as c_int,
                    start.argv.as_ptr(),
                    start.envp.as_ptr(),
                )
            }
        }
    }
}

/// The task thread's start routine. `C-unwind` because `exit()` in a thread-mode task ends the
/// thread with a forced unwind that must pass through this frame (running `Finish`) to
/// `pthread_create`'s own frame.
pub(super) unsafe extern "C-unwind" fn task_thread(arg: *mut c_void) -> *mut c_void {
    // SAFETY: `arg` is the Box<TaskStart> leaked by Root::spawn for this thread alone.
    let mut start = unsafe { Box::from_raw(arg as *mut TaskStart) };
    let slot = start.slot;
    let process = start.root.mode == Mode::Process;
    set_current_task(slot);
    start.step(StartStep::NameThread);
    crate::sys::set_thread_name(&thread_name(
        slot.pipid,
        &start.spawn.program,
        start.root.mode,
    ));
    if !process {
        start.step(StartStep::RecordTid);
        // SYNC(root#slot-fields): written before RUNNING (Release), which the root acquires before reading it
        slot.tid.store(gettid(), Ordering::Release);
        *slot.alt_stack.lock().unwrap() = crate::root::signals::alt_stack();
    }
    start.step(StartStep::Setup);
    if let Err((step, e)) = start.setup() {
        return setup_failed(slot, step, e);
    }
    if process {
        host_process_task(&mut start);
        return std::ptr::null_mut();
    }
    start.step(StartStep::PublishRunning);
    // SYNC(root#slot-fields): RUNNING / SETUP_FAILED (Release) publishes the fields written before it to the root's Acquire load in `spawn`
    slot.state.store(RUNNING, Ordering::Release);
    futex_wake(&slot.state, 1);

    let guard = Finish { start: &mut start };
    let code = run_task(guard.start);
    // The entry returned: the task's exit handlers run on its thread (one that calls `exit()`
    // ends the task from here, running the rest).
    // SYNC(root#slot-fields): written by the root before this thread was created
    super::exit_handlers::run(slot.exit_key.load(Ordering::Acquire), code);
    guard.start.slot.record(ExitStatus::Exited(code));
    drop(guard);
    std::ptr::null_mut()
}

fn setup_failed(slot: &TaskSlot, step: SetupStep, errno: i32) -> *mut c_void {
    CURRENT_TASK.with(|c| c.set(std::ptr::null()));
    // SYNC(root#slot-fields): written before SETUP_FAILED (Release)
    slot.setup_errno.store(errno, Ordering::Release);
    // SYNC(root#slot-fields): written before SETUP_FAILED (Release)
    slot.setup_step.store(step as u32, Ordering::Release);
    // SYNC(root#slot-fields): RUNNING / SETUP_FAILED (Release) publishes the fields written before it to the root's Acquire load in `spawn`
    slot.state.store(SETUP_FAILED, Ordering::Release);
    futex_wake(&slot.state, 1);
    std::ptr::null_mut()
}

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
fn host_process_task(start: &mut TaskStart) {
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

/// PiP's thread name: the last digit of the pipid, `|` for thread mode or `;` for process mode
/// (PiP's mark for its clone-based process mode), then the program name.
fn thread_name(pipid: usize, program: &std::path::Path, mode: Mode) -> String {
    let base = program
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let base = base.strip_prefix("lib").unwrap_or(&base);
    let base = base.strip_suffix(".so").unwrap_or(base);
    let mark = if mode == Mode::Process { ';' } else { '|' };
    format!("{}{mark}{}", pipid % 10, base)
}

/// `PIP_STOP_ON_START=N` stops the process (`SIGSTOP`) when task N starts; a negative N stops
/// at every task. Continue with `kill -CONT <pid>` after attaching a debugger.
fn stop_on_start(stop: Option<i64>, pipid: usize) {
    let Some(v) = stop else {
        return;
    };
    if v < 0 || v as usize == pipid {
        // SAFETY: getpid has no preconditions.
        let pid = unsafe { libc::getpid() };
        eprintln!("pip: task {pipid} (tid {}) stopped on start (PIP_STOP_ON_START); attach with `gdb -p {pid}`, continue with `kill -CONT {pid}`", gettid());
        // SAFETY: stops the process; it continues on SIGCONT.
        unsafe { libc::kill(pid, libc::SIGSTOP) };
    }
}
