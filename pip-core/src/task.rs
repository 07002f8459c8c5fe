//! The task side: who am I, the exports, and the entry-point macros.
//!
//! Every image of pip-core in the process (the root's, and one per task, since each task has
//! its own copy of its program and so of pip-core's statics) holds a *context*: a pointer to the
//! root's [`RootAbi`] and its own pipid. The root sets its context in
//! [`Root::init`](crate::Root::init); a task gets its context when the root calls the exported
//! [`pip_rs_task_attach`] on the task's thread, before the entry point. All the functions of this
//! module work the same in the root and in tasks, through [`RootOps`](crate::abi::RootOps).

use crate::abi::{RootAbi, TaskAbiInfo, PIPID_ROOT};
use crate::error::{Error, Result};
use crate::{Isolation, Mode, PipId};
use std::ffi::{c_char, c_int, c_void, CStr, OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::sync::atomic::{AtomicI32, AtomicPtr, Ordering};
use std::sync::OnceLock;

/// Marks a pipid not yet set.
const UNSET: i32 = i32::MIN;

static ROOT: AtomicPtr<RootAbi> = AtomicPtr::new(std::ptr::null_mut());
static PIPID: AtomicI32 = AtomicI32::new(UNSET);
static ARGS: OnceLock<Vec<OsString>> = OnceLock::new();
static ENV: OnceLock<Vec<(OsString, OsString)>> = OnceLock::new();

/// The ABI block a Rust task exports so the root can check it before running any task code.
#[no_mangle]
#[allow(non_upper_case_globals)]
pub static pip_rs_task_abi: TaskAbiInfo = TaskAbiInfo::CURRENT;

/// Called by the root on the task's thread before the entry point: checks the root's ABI and
/// stores this task's context, arguments and environment.
///
/// Returns 0, or `EPERM` after printing why the root and task do not match.
///
/// # Safety
///
/// `abi` must point to a live [`RootAbi`]; `argv` and `envp` must be null-terminated arrays of
/// NUL-terminated strings (or null), valid for the call.
#[no_mangle]
pub unsafe extern "C" fn pip_rs_task_attach(
    abi: *const RootAbi,
    pipid: c_int,
    argv: *const *const c_char,
    envp: *const *const c_char,
) -> c_int {
    // SAFETY: the caller guarantees `abi` is live.
    let Some(root) = (unsafe { abi.as_ref() }) else {
        return libc::EINVAL;
    };
    if let Err(msg) = root.check() {
        eprintln!("pip: task {pipid}: {msg}");
        return libc::EPERM;
    }
    ROOT.store(abi as *mut RootAbi, Ordering::Release);
    PIPID.store(pipid, Ordering::Release);
    // SAFETY: the caller guarantees the arrays are valid.
    let args = unsafe { c_strings(argv) };
    let _ = ARGS.set(args);
    // SAFETY: as above.
    let env = unsafe { c_strings(envp) }
        .into_iter()
        .filter_map(|kv| {
            let kv = kv.into_vec();
            let eq = kv.iter().position(|&b| b == b'=')?;
            Some((
                OsString::from_vec(kv[..eq].to_vec()),
                OsString::from_vec(kv[eq + 1..].to_vec()),
            ))
        })
        .collect();
    let _ = ENV.set(env);
    install_panic_hook(pipid);
    0
}

/// Called by the root when the task ends (any way but a fatal signal): flushes this task's
/// copy of Rust's stdout buffer.
#[no_mangle]
pub extern "C" fn pip_rs_task_flush() {
    use std::io::Write;
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
}

/// The unwinding payload that carries a Rust task's `exit()` code up to its entry.
struct TaskExit(c_int);

/// Called by the root when this Rust task's main thread calls `exit(code)`: unwinds the task's
/// stack as a panic would (without the panic message), running its destructors, up to the
/// entry, which then returns `code`. Never returns.
#[no_mangle]
pub extern "C-unwind" fn pip_rs_task_exit(code: c_int) {
    std::panic::resume_unwind(Box::new(TaskExit(code)))
}

/// # Safety
/// `p` must be null or a null-terminated array of valid C strings.
unsafe fn c_strings(mut p: *const *const c_char) -> Vec<OsString> {
    let mut out = Vec::new();
    if p.is_null() {
        return out;
    }
    // SAFETY: the caller guarantees a null-terminated array of valid C strings.
    unsafe {
        while !(*p).is_null() {
            out.push(OsStr::from_bytes(CStr::from_ptr(*p).to_bytes()).to_os_string());
            p = p.add(1);
        }
    }
    out
}

fn install_panic_hook(pipid: c_int) {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        eprintln!("pip: task {pipid} panicked");
        previous(info);
    }));
}

/// Sets the root's own context (called by `Root::init`).
pub(crate) fn set_root_context(abi: *const RootAbi) {
    ROOT.store(abi as *mut RootAbi, Ordering::Release);
    PIPID.store(PIPID_ROOT, Ordering::Release);
}

/// Clears the root's context (called by `Root::fin`).
pub(crate) fn clear_root_context() {
    PIPID.store(UNSET, Ordering::Release);
    ROOT.store(std::ptr::null_mut(), Ordering::Release);
}

fn context() -> Result<(&'static RootAbi, c_int)> {
    let root = ROOT.load(Ordering::Acquire);
    let me = PIPID.load(Ordering::Acquire);
    if root.is_null() || me == UNSET {
        return Err(Error::NotInitialized);
    }
    // SAFETY: a RootAbi, once published, is never freed (it is leaked by Root::init).
    Ok((unsafe { &*root }, me))
}

/// The job's wait board and the caller's slot on it (the last slot is the root's).
pub(crate) fn wait_board() -> Option<(*const crate::waits::BoardHeader, usize)> {
    let (root, me) = context().ok()?;
    let board = root.wait_board.load(Ordering::Acquire);
    if board.is_null() {
        return None;
    }
    let index = if me == PIPID_ROOT {
        root.ntasks as usize
    } else {
        me as usize
    };
    Some((board, index))
}

fn to_pipid(raw: c_int) -> PipId {
    if raw == PIPID_ROOT {
        PipId::Root
    } else {
        PipId::Task(raw as usize)
    }
}

fn from_pipid(p: PipId, root: &RootAbi) -> Result<c_int> {
    match p {
        PipId::Root => Ok(PIPID_ROOT),
        PipId::Task(n) if n < root.ntasks as usize => Ok(n as c_int),
        PipId::Task(n) => Err(Error::InvalidPipid {
            pipid: n as i64,
            ntasks: root.ntasks as usize,
        }),
    }
}

/// This image's pipid: [`PipId::Root`] in the root, [`PipId::Task`] in a task.
///
/// ```
/// // Outside a PiP job there is no pipid.
/// assert!(pip_core::pipid().is_err());
/// ```
pub fn pipid() -> Result<PipId> {
    context().map(|(_, me)| to_pipid(me))
}

/// The number of tasks the root was initialised for.
pub fn ntasks() -> Result<usize> {
    context().map(|(r, _)| r.ntasks as usize)
}

/// True in an initialised root.
pub fn is_root() -> bool {
    matches!(pipid(), Ok(PipId::Root))
}

/// True in a task.
pub fn is_task() -> bool {
    matches!(pipid(), Ok(PipId::Task(_)))
}

/// The job's execution mode.
pub fn mode() -> Result<Mode> {
    context().map(|(r, _)| {
        if r.mode == Mode::Process as u32 {
            Mode::Process
        } else {
            Mode::Thread
        }
    })
}

/// The job's isolation level.
pub fn isolation() -> Result<Isolation> {
    context().map(|(r, _)| {
        if r.isolation == 1 {
            Isolation::Namespace
        } else {
            Isolation::SharedLibc
        }
    })
}

/// The task's arguments, `argv[0]` (the program) first. In the root: the process's arguments.
///
/// Arguments are bytes; one that is not UTF-8 comes out with U+FFFD in place of the invalid
/// sequences (as `String::from_utf8_lossy` gives). Use [`args_os`] for the exact bytes.
///
/// (`std::env::args()` inside a task shows the root's command line: the loader runs a
/// library's initialisers with the process's arguments.)
pub fn args() -> Vec<String> {
    args_os()
        .into_iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect()
}

/// The task's arguments as given, byte for byte, `argv[0]` first (in the root: the process's).
///
/// ```
/// // Outside a task: the process's own arguments.
/// assert_eq!(pip_core::args_os().len(), std::env::args_os().count());
/// ```
pub fn args_os() -> Vec<OsString> {
    match ARGS.get() {
        Some(a) => a.clone(),
        None => std::env::args_os().collect(),
    }
}

/// A variable of the task's environment (as given at spawn), or of the process in the root.
/// `None` when it is not set, or its value is not UTF-8 (read that with [`env_var_os`]).
///
/// In `shared-libc` isolation every task shares one C `environ`, so `std::env::var` shows the
/// process's environment; this function shows the one the task was spawned with.
pub fn env_var(name: &str) -> Option<String> {
    env_var_os(name)?.into_string().ok()
}

/// A variable of the task's environment (or the root's process), byte for byte.
///
/// ```
/// // Outside a task: the process's environment.
/// assert_eq!(pip_core::env_var_os("PATH"), std::env::var_os("PATH"));
/// ```
pub fn env_var_os(name: impl AsRef<OsStr>) -> Option<OsString> {
    let name = name.as_ref();
    match ENV.get() {
        Some(env) => env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()),
        None => std::env::var_os(name),
    }
}

fn check(code: c_int, name: &str, peer: PipId) -> Result<()> {
    match code {
        0 => Ok(()),
        libc::EDEADLK => Err(Error::Deadlock(name.to_string())),
        libc::ECANCELED => Err(Error::Canceled {
            peer,
            name: name.to_string(),
        }),
        libc::EAGAIN => Err(Error::NotYetExported {
            peer,
            name: name.to_string(),
        }),
        libc::EBUSY => Err(Error::AlreadyExported(name.to_string())),
        libc::EINVAL => Err(Error::NullExport),
        libc::EPERM => Err(Error::NotInitialized),
        e => Err(Error::System {
            op: "export/import",
            source: std::io::Error::from_raw_os_error(e),
        }),
    }
}

/// The root's export: the pointer given to
/// [`RootBuilder::export`](crate::RootBuilder::export) (null if none).
pub fn root_export<T>() -> Result<*mut T> {
    let (root, _) = context()?;
    Ok(root.root_export.load(Ordering::Acquire).cast())
}

/// Sets this task's (or the root's) unnamed export, which [`import`] reads.
pub fn export<T>(addr: *mut T) -> Result<()> {
    let (root, me) = context()?;
    if addr.is_null() {
        return Err(Error::NullExport);
    }
    // SAFETY: `root` is a live RootAbi whose ops follow the ABI contract.
    check(
        unsafe { (root.ops.export)(root, me, addr.cast()) },
        "",
        to_pipid(me),
    )
}

/// Reads `peer`'s unnamed export; null if it has not exported anything. Never blocks.
pub fn import<T>(peer: PipId) -> Result<*mut T> {
    let (root, _) = context()?;
    let target = from_pipid(peer, root)?;
    let mut out = std::ptr::null_mut();
    // SAFETY: as in `export`; `out` is a valid place to write.
    check(
        unsafe { (root.ops.import)(root, target, &mut out) },
        "",
        peer,
    )?;
    Ok(out.cast())
}

/// Exports `addr` under `name`, waking every task blocked in [`named_import`] of it.
///
/// Errors: [`Error::AlreadyExported`] if this task already exported `name`,
/// [`Error::NullExport`] for a null pointer.
pub fn named_export<T>(name: &str, addr: *mut T) -> Result<()> {
    let (root, me) = context()?;
    if addr.is_null() {
        return Err(Error::NullExport);
    }
    // SAFETY: as in `export`; `name` is valid for `name.len()` bytes.
    let code = unsafe { (root.ops.named_export)(root, me, name.as_ptr(), name.len(), addr.cast()) };
    check(code, name, to_pipid(me))
}

fn named_import_impl<T>(peer: PipId, name: &str, block: bool) -> Result<*mut T> {
    let (root, me) = context()?;
    let target = from_pipid(peer, root)?;
    let mut out = std::ptr::null_mut();
    // SAFETY: as in `named_export`; `out` is a valid place to write.
    let code = unsafe {
        (root.ops.named_import)(
            root,
            me,
            target,
            name.as_ptr(),
            name.len(),
            block as c_int,
            &mut out,
        )
    };
    check(code, name, peer)?;
    Ok(out.cast())
}

/// Returns what `peer` exported under `name`, **waiting** until it does.
///
/// Errors: [`Error::Deadlock`] when `peer` is the caller and the name is not exported,
/// [`Error::Canceled`] when `peer` ends without exporting it.
pub fn named_import<T>(peer: PipId, name: &str) -> Result<*mut T> {
    named_import_impl(peer, name, true)
}

/// Like [`named_import`] but returns [`Error::NotYetExported`] instead of waiting.
pub fn try_named_import<T>(peer: PipId, name: &str) -> Result<*mut T> {
    named_import_impl(peer, name, false)
}

/// This task's aux pointer (given at spawn with [`Spawn::aux`](crate::Spawn::aux)).
pub fn aux() -> Result<*mut c_void> {
    let (root, me) = context()?;
    let mut v = std::ptr::null_mut();
    // SAFETY: as in `export`.
    check(
        unsafe { (root.ops.aux)(root, me, 0, &mut v) },
        "",
        to_pipid(me),
    )?;
    Ok(v)
}

/// Sets this task's aux pointer.
pub fn set_aux(value: *mut c_void) -> Result<()> {
    let (root, me) = context()?;
    let mut v = value;
    // SAFETY: as in `export`.
    check(
        unsafe { (root.ops.aux)(root, me, 1, &mut v) },
        "",
        to_pipid(me),
    )
}

/// Gives up the CPU (`sched_yield`).
pub fn yield_now() {
    // SAFETY: no preconditions.
    unsafe {
        libc::sched_yield();
    }
}

/// Ends the calling task with `code` (its destructors on the stack run). In the root, or on a
/// thread the task created itself, ends the whole process like `std::process::exit`.
pub fn exit(code: i32) -> ! {
    // Goes through the interposed `exit` below, which knows about tasks.
    std::process::exit(code)
}

/// What a task's entry may return: `()`, an exit code, or a `Result` (an `Err` prints the error
/// and gives exit code 1).
pub trait TaskResult {
    /// The exit code.
    fn into_code(self) -> i32;
}

impl TaskResult for () {
    fn into_code(self) -> i32 {
        0
    }
}

impl TaskResult for i32 {
    fn into_code(self) -> i32 {
        self
    }
}

impl<E: std::fmt::Debug> TaskResult for std::result::Result<(), E> {
    fn into_code(self) -> i32 {
        match self {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("Error: {e:?}");
                1
            }
        }
    }
}

fn finish<R: TaskResult>(f: impl FnOnce() -> R) -> c_int {
    let code = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(r) => r.into_code(),
        Err(payload) if payload.is::<TaskExit>() => {
            payload.downcast_ref::<TaskExit>().map_or(0, |e| e.0)
        }
        Err(_) => {
            if let Ok((root, me)) = context() {
                // SAFETY: `root` is live; task_panicked only records a flag.
                unsafe { (root.ops.task_panicked)(root, me) };
            }
            101
        }
    };
    pip_rs_task_flush();
    code
}

/// Runs a task's main function; used by [`task_main!`](crate::task_main).
#[doc(hidden)]
pub fn run_main<R: TaskResult>(f: fn() -> R) -> c_int {
    finish(f)
}

/// Runs a task's named start function; used by [`task_function!`](crate::task_function).
#[doc(hidden)]
pub fn run_function<R: TaskResult>(arg: *mut c_void, f: fn(*mut c_void) -> R) -> c_int {
    finish(|| f(arg))
}

/// Makes this `cdylib` a task program: exports the C entry point `main` that runs `f`.
///
/// `f` is a `fn() -> R` where `R` is `()`, `i32` (the exit code) or `Result<(), E>`. An `Err`
/// gives exit code 1 after printing `Error: ` and the error's `Display` text to stderr, then a
/// `caused by:` line for each of its sources (see [`task_code`](crate::task_code)). Its
/// arguments are in [`pip_core::args()`](crate::args). A panic in `f` ends only this task, which
/// the root sees as [`ExitStatus::Panicked`](crate::ExitStatus::Panicked).
///
/// The crate must be built as a `cdylib` (`[lib] crate-type = ["cdylib"]`, or
/// `crate-type = ["cdylib"]` on an `[[example]]`). In a binary crate (`src/main.rs`, built by
/// Cargo) the macro stops the build with an error that says so.
///
/// ```no_run
/// fn run() -> i32 {
///     println!("task {:?} of {}", pip_core::pipid().unwrap(), pip_core::ntasks().unwrap());
///     0
/// }
/// pip_core::task_main!(run);
/// ```
#[macro_export]
macro_rules! task_main {
    ($f:path) => {
        // Cargo sets CARGO_BIN_NAME only when it compiles an executable.
        const _: () = if ::core::option_env!("CARGO_BIN_NAME").is_some() {
            ::core::panic!(
                "pip_core::task_main! is in a binary crate, but a task must be a shared object: \
                 move the code to src/lib.rs and add `[lib] crate-type = [\"cdylib\"]` to \
                 Cargo.toml (or `crate-type = [\"cdylib\"]` to its [[example]]), then run the \
                 built lib<name>.so with pip-exec"
            )
        };

        /// The task's entry point, exported as the C symbol `main` and called by the PiP root.
        /// Its Rust name is not `main`, so that the macro in a binary crate is reported as
        /// such, not as a `main` of the wrong type.
        #[export_name = "main"]
        pub extern "C-unwind" fn pip_rs_task_main(
            _argc: ::std::ffi::c_int,
            _argv: *const *const ::std::ffi::c_char,
        ) -> ::std::ffi::c_int {
            $crate::task::run_main(|| $crate::__task_code!($f()))
        }
        $crate::__keep_direct_run_entry!();
    };
}

/// Exports a named start function `int NAME(void *arg)` that runs `f(arg)`; spawn it with
/// [`Spawn::function`](crate::Spawn::function) or `pip-exec -f NAME`. `f` returns what a
/// [`task_main!`](crate::task_main) entry may return, with the same exit codes and messages.
///
/// ```no_run
/// fn work(arg: *mut std::ffi::c_void) -> i32 {
///     arg as usize as i32
/// }
/// pip_core::task_function!(worker, work);
/// ```
#[macro_export]
macro_rules! task_function {
    ($name:ident, $f:path) => {
        /// A task start function, called by the PiP root.
        #[no_mangle]
        pub extern "C-unwind" fn $name(arg: *mut ::std::ffi::c_void) -> ::std::ffi::c_int {
            $crate::task::run_function(arg, |arg| $crate::__task_code!($f(arg)))
        }
        $crate::__keep_direct_run_entry!();
    };
}

// ---------------------------------------------------------------------------------------------
// exit() interposition.
//
// A task that calls `exit()` must end only itself. The root program exports this `exit`
// (linked with `-Wl,--export-dynamic-symbol=exit`), so every task loaded into the main link
// namespace calls it instead of libc's. In namespace isolation a Rust task's own copy of this
// function comes first in its lookup scope. Either way: on a task's main thread the root ends
// the task (`RootOps::task_exit` does not return); anywhere else we forward to the next `exit`
// in lookup order (libc's).

extern "C" {
    fn dlsym(handle: *mut c_void, symbol: *const c_char) -> *mut c_void;
}

static REAL_EXIT: AtomicPtr<c_void> = AtomicPtr::new(std::ptr::null_mut());

/// Interposes libc's `exit` so that a task's `exit()` ends only that task. Not for direct use.
///
/// # Safety
///
/// Same contract as C's `exit`.
#[export_name = "exit"]
pub unsafe extern "C-unwind" fn exit_interposer(code: c_int) -> ! {
    if let Ok((root, _)) = context() {
        // SAFETY: `root` is live; task_exit returns only when the caller is not a task's main
        // thread.
        unsafe { (root.ops.task_exit)(root, code) };
    }
    if crate::signals::shares_the_roots_memory() {
        // Another thread of a process-mode task: its process ends, but libc's `exit` would run
        // the root's exit handlers and destructors on memory the root still uses. Flush stdio
        // (as `exit` would) and end just this process.
        // SAFETY: fflush(NULL) flushes every stream; _exit has no preconditions.
        unsafe {
            libc::fflush(std::ptr::null_mut());
            libc::_exit(code)
        }
    }
    // A process a task forked: the task's exit handlers (kept by pip-core, not libc) run first.
    crate::root::run_exit_handlers_if_forked_from_task(code);
    let mut real = REAL_EXIT.load(Ordering::Acquire);
    if real.is_null() {
        // SAFETY: RTLD_NEXT finds the next definition of `exit` after this object (libc's).
        real = unsafe { dlsym(libc::RTLD_NEXT, c"exit".as_ptr()) };
        REAL_EXIT.store(real, Ordering::Release);
    }
    if real.is_null() {
        // SAFETY: _exit has no preconditions; nothing better is possible without libc's exit.
        unsafe { libc::_exit(code) }
    }
    // SAFETY: `real` is libc's `exit`, whose type is `void exit(int)`.
    let real: unsafe extern "C" fn(c_int) -> ! = unsafe { std::mem::transmute(real) };
    // SAFETY: forwarding the caller's own call.
    unsafe { real(code) }
}

/// The address of this image's `exit` interposer (to check that the root exports it).
pub(crate) fn interposer_address() -> *const c_void {
    exit_interposer as *const c_void
}
