//! The task thread: set-up, the entry call, and how the thread ends (see the protocol in
//! [`super`]).

use super::ops::op_task_exit;
use super::state::*;
use super::*;

/// Everything the task thread needs, handed over through `pthread_create`.
pub(super) struct TaskStart {
    slot: &'static TaskSlot,
    root: &'static RootState,
    image: Image,
    spawn: Spawn,
    argv: Vec<*const c_char>,
    envp: Vec<*const c_char>,
}

/// Leaks a C string: argv and env strings must outlive the task (tasks keep pointers to them).
fn leak(s: &str) -> *const c_char {
    CString::new(s.replace('\0', "")).unwrap().into_raw()
}

impl TaskStart {
    pub(super) fn new(
        slot: &TaskSlot,
        image: Image,
        spawn: Spawn,
        root: &'static RootState,
    ) -> TaskStart {
        let mut argv: Vec<*const c_char> = std::iter::once(spawn.program.display().to_string())
            .chain(spawn.args.iter().cloned())
            .map(|a| leak(&a))
            .collect();
        argv.push(std::ptr::null());
        let mut envp: Vec<*const c_char> = spawn
            .environment()
            .iter()
            .map(|(k, v)| leak(&format!("{k}={v}")))
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
        }
    }

    /// Applies the CPU core, private fd table and cwd. Runs before the root's `spawn` returns.
    fn setup(&self) -> std::result::Result<(), i32> {
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
                    return Err(libc::EINVAL);
                }
                libc::CPU_SET(core, &mut set);
                if libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) != 0 {
                    return Err(errno());
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
            return Err(errno());
        }
        if let Some(cwd) = &self.spawn.cwd {
            std::env::set_current_dir(cwd).map_err(|e| e.raw_os_error().unwrap_or(libc::EIO))?;
        }
        Ok(())
    }
}

/// Runs when the task's thread leaves its entry normally or by `exit()` (forced unwind):
/// after hook, stdio flush, then `FINISHED`.
struct Finish<'a> {
    start: &'a mut TaskStart,
}

impl Drop for Finish<'_> {
    fn drop(&mut self) {
        let slot = self.start.slot;
        if let Some(after) = self.start.spawn.after.take() {
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(after)).unwrap_or(1);
            if r != 0 && slot.status() == ExitStatus::Exited(0) {
                slot.status_value.store(r, Ordering::Release);
            }
        }
        // SAFETY: the flush functions belong to this task's image or libc and take no
        // arguments (fflush(NULL) flushes every stream of that libc).
        unsafe {
            if let Some(flush) = self.start.image.flush {
                flush();
            }
            match self.start.image.ns.and_then(|ns| ns.fflush) {
                Some(fflush) => {
                    fflush(std::ptr::null_mut());
                }
                None => {
                    libc::fflush(std::ptr::null_mut());
                }
            }
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

/// The task thread's start routine. `C-unwind` because `exit()` in the task ends the thread with
/// a forced unwind that must pass through this frame (running `Finish`) to `pthread_create`'s
/// own frame.
pub(super) unsafe extern "C-unwind" fn task_thread(arg: *mut c_void) -> *mut c_void {
    // SAFETY: `arg` is the Box<TaskStart> leaked by Root::spawn for this thread alone.
    let mut start = unsafe { Box::from_raw(arg as *mut TaskStart) };
    let slot = start.slot;
    slot.tid.store(gettid(), Ordering::Release);
    CURRENT_TASK.with(|c| c.set(slot));
    crate::sys::set_thread_name(&thread_name(slot.pipid, &start.spawn.program));
    *slot.alt_stack.lock().unwrap() = crate::signals::alt_stack();
    if let Err(e) = start.setup() {
        CURRENT_TASK.with(|c| c.set(std::ptr::null()));
        slot.setup_errno.store(e, Ordering::Release);
        slot.state.store(SETUP_FAILED, Ordering::Release);
        futex_wake(&slot.state, 1);
        return std::ptr::null_mut();
    }
    slot.state.store(RUNNING, Ordering::Release);
    futex_wake(&slot.state, 1);

    let root = start.root;
    let pipid = slot.pipid as c_int;
    let guard = Finish { start: &mut start };
    let start = &mut *guard.start;

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
    if let Some(before) = start.spawn.before.take() {
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(before)).unwrap_or(1);
        if r != 0 {
            slot.record(ExitStatus::Exited(r));
            drop(guard);
            return std::ptr::null_mut();
        }
    }
    stop_on_start(slot.pipid);
    if let Some(exit) = start.image.exit {
        slot.rust_exit.store(exit as usize, Ordering::Release);
    }
    if let Some(attach) = start.image.attach {
        // SAFETY: a pip-rs task's attach function (ABI checked at load); argv/envp are
        // null-terminated and leaked.
        let rc = unsafe { attach(&root.abi, pipid, start.argv.as_ptr(), start.envp.as_ptr()) };
        if rc != 0 {
            slot.record(ExitStatus::Exited(127));
            drop(guard);
            return std::ptr::null_mut();
        }
    }
    let code = match &start.spawn.function {
        Some((_, arg)) => {
            // SAFETY: the entry is `int f(void *)`, as the spawn asked for a start function.
            let f: unsafe extern "C-unwind" fn(*mut c_void) -> c_int =
                unsafe { std::mem::transmute(start.image.entry) };
            unsafe { f(*arg as *mut c_void) }
        }
        None => {
            // SAFETY: the entry is `int main(int, char **, char **)`.
            let f: unsafe extern "C-unwind" fn(
                c_int,
                *const *const c_char,
                *const *const c_char,
            ) -> c_int = unsafe { std::mem::transmute(start.image.entry) };
            unsafe {
                f(
                    (start.argv.len() - 1) as c_int,
                    start.argv.as_ptr(),
                    start.envp.as_ptr(),
                )
            }
        }
    };
    slot.record(ExitStatus::Exited(code));
    drop(guard);
    std::ptr::null_mut()
}

/// PiP's thread name: the last digit of the pipid, `|` for thread mode, then the program name.
fn thread_name(pipid: usize, program: &std::path::Path) -> String {
    let base = program
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let base = base.strip_prefix("lib").unwrap_or(&base);
    let base = base.strip_suffix(".so").unwrap_or(base);
    format!("{}|{}", pipid % 10, base)
}

/// `PIP_STOP_ON_START=N` stops the process (`SIGSTOP`) when task N starts; a negative N stops
/// at every task. Continue with `kill -CONT <pid>` after attaching a debugger.
fn stop_on_start(pipid: usize) {
    let Some(v) = std::env::var("PIP_STOP_ON_START")
        .ok()
        .and_then(|v| v.trim().parse::<i64>().ok())
    else {
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
