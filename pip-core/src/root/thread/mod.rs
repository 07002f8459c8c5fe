//! The task thread: set-up, the entry call, and how the thread ends (see the protocol in
//! [`super`]).

mod process;

use super::ops::op_task_exit;
use super::state::*;
use super::*;
use process::host_process_task;

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
