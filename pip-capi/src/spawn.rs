//! Spawning tasks: `pip_task_spawn` and `pip_spawn` (PiP v2.0 and v1), on the root that
//! [`crate::job`] keeps.

use crate::consts::*;
use crate::job::job;
use crate::whoami::{who, TaskInfo, Who, ROOT_TID, TASK_INFO_MAGIC, TASK_INFO_NAME};
use pip_core::{Error, Spawn};
use std::ffi::{c_char, c_int, c_void, CStr, OsStr};
use std::os::unix::ffi::OsStrExt;
use std::sync::atomic::Ordering;

/// `pip_spawn_program_t` (PiP v2.0 layout, with `exp`).
#[repr(C)]
pub struct SpawnProgram {
    /// The program file.
    pub prog: *mut c_char,
    /// `argv` of `main`, null-terminated.
    pub argv: *mut *mut c_char,
    /// The environment, null-terminated (null: the root's).
    pub envv: *mut *mut c_char,
    /// A start function instead of `main`.
    pub funcname: *mut c_char,
    /// The start function's argument.
    pub arg: *mut c_void,
    /// The task's export (what its `pip_init` returns in `root_expp`).
    pub exp: *mut c_void,
    /// The task's aux pointer.
    pub aux: *mut c_void,
    /// Reserved.
    pub reserved: [*mut c_void; 2],
}

/// A spawn hook: `int hook(void *hookarg)`.
pub type SpawnHookFn = Option<unsafe extern "C" fn(*mut c_void) -> c_int>;

/// `pip_spawn_hook_t`.
#[repr(C)]
pub struct SpawnHook {
    /// Runs on the task's thread before `main`; non-zero aborts the task with that code.
    pub before: SpawnHookFn,
    /// Runs when the task ends; non-zero replaces an exit code of 0.
    pub after: SpawnHookFn,
    /// The hooks' argument.
    pub hookarg: *mut c_void,
    /// Reserved.
    pub reserved: [*mut c_void; 5],
}

/// The CPU a `coreno` argument names: `None` for `PIP_CPUCORE_ASIS`.
fn cpu_of(coreno: u32) -> Result<Option<usize>, c_int> {
    let flags = coreno & PIP_CPUCORE_FLAG_MASK;
    let n = coreno & PIP_CPUCORE_CORENO_MASK;
    match flags {
        PIP_CPUCORE_ASIS => Ok(None),
        _ if n >= PIP_CPUCORE_CORENO_MAX => Err(libc::EINVAL),
        PIP_CPUCORE_ABS => Ok(Some(n as usize)),
        0 => {
            // The n-th CPU of the root's affinity mask, wrapping around.
            // SAFETY: a zeroed cpu_set_t is valid; sched_getaffinity fills it.
            let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
            // SAFETY: as above; the size is the set's.
            let rc = unsafe {
                libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set)
            };
            if rc != 0 {
                return Err(libc::EINVAL);
            }
            let cpus: Vec<usize> = (0..libc::CPU_SETSIZE as usize)
                // SAFETY: `cpu` is below CPU_SETSIZE.
                .filter(|&cpu| unsafe { libc::CPU_ISSET(cpu, &set) })
                .collect();
            if cpus.is_empty() {
                return Err(libc::EINVAL);
            }
            Ok(Some(cpus[n as usize % cpus.len()]))
        }
        _ => Err(libc::EINVAL),
    }
}

/// # Safety
/// `p` is null or a null-terminated array of C strings.
unsafe fn strings(mut p: *const *mut c_char) -> Vec<Vec<u8>> {
    let mut v = Vec::new();
    if p.is_null() {
        return v;
    }
    // SAFETY: guaranteed by the caller.
    unsafe {
        while !(*p).is_null() {
            // Bytes, as given: arguments and environment need not be UTF-8.
            v.push(CStr::from_ptr(*p).to_bytes().to_vec());
            p = p.add(1);
        }
    }
    v
}

/// Checks the program file as PiP does before loading it: a name without `/` is `ENOENT`, a
/// file that is not executable `EACCES`.
fn check_program(prog: &str) -> Result<(), c_int> {
    if !prog.contains('/') {
        return Err(libc::ENOENT);
    }
    let c = std::ffi::CString::new(prog).map_err(|_| libc::EINVAL)?;
    // SAFETY: `c` is a valid C string.
    if unsafe { libc::access(c.as_ptr(), libc::F_OK) } != 0 {
        return Err(libc::ENOENT);
    }
    // SAFETY: as above.
    if unsafe { libc::access(c.as_ptr(), libc::X_OK) } != 0 {
        return Err(libc::EACCES);
    }
    Ok(())
}

/// PiP's rule for a start function: it must be exported (in `.dynsym`, as `dlsym` needs). A
/// `static` function, which only the symbol table has, gives `ENOEXEC` with the reason on stderr
/// (pip-core could run it, as PiP v2.4 does, but PiP v2.0's programs expect the refusal). A file
/// that cannot be read is left to the spawn, which reports it.
fn check_start_function(path: &str, func: &str) -> Result<(), c_int> {
    let Ok((_, info)) = pip_core::elf::inspect(std::path::Path::new(path)) else {
        return Ok(());
    };
    match info.symbol(func) {
        Some(sym) if !sym.exported => {
            eprintln!("pip_task_spawn({path}): the start function `{func}` is not exported (a `static` function?): PiP refuses it with ENOEXEC; define it without `static` and build with pipcc (which links with -rdynamic)");
            Err(libc::ENOEXEC)
        }
        _ => Ok(()),
    }
}

/// A raw pointer that may cross to the task's thread (the hooks run there).
#[derive(Clone, Copy)]
struct SendPtr(*mut c_void);
// SAFETY: an opaque value handed to the user's hooks, which vouch for its use on the task's
// thread, as with PiP.
unsafe impl Send for SendPtr {}

impl SendPtr {
    /// The pointer (a method, so that closures capture the whole `SendPtr`).
    fn get(self) -> *mut c_void {
        self.0
    }
}

/// Spawns a task: `main` of `progp->prog` with `progp->argv`, or its start function
/// `progp->funcname(progp->arg)`.
///
/// `*pipidp` is in/out: `PIP_PIPID_ANY` (or a null `pipidp`) takes the next free pipid. `coreno`
/// is the `n`-th CPU of the root's affinity mask, or `n | PIP_CPUCORE_ABS` (CPU `n`), or
/// `PIP_CPUCORE_ASIS` (not pinned). `opts` is ignored. The hooks run on the task's thread,
/// `before` just before `main`, `after` when the task ends.
///
/// Errors: `EPERM` (not initialised, or called in a task), `EINVAL` (no program, no `argv` and
/// no `funcname`, a bad pipid or core), `EAGAIN` (pipid taken), `EOVERFLOW` (every pipid was
/// used), `ENOENT` (no `/` in the name, or no such file), `EACCES` (not executable), `ELIBBAD`
/// (not ELF), `ELIBEXEC` (not a PIE or shared object), `ENOEXEC` (no `main`/`funcname`, a
/// `funcname` that is not exported, e.g. `static`, or the loader refused it).
///
/// # Safety
///
/// The pointers are null or valid; the strings are NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn pip_task_spawn(
    progp: *mut SpawnProgram,
    coreno: u32,
    opts: u32,
    pipidp: *mut c_int,
    hookp: *mut SpawnHook,
) -> c_int {
    let _ = opts;
    if let Who::Task(..) = who() {
        return libc::EPERM;
    }
    let mut job = job();
    let Some(root) = job.as_mut() else {
        return libc::EPERM;
    };
    // SAFETY: the caller passes null or a valid pointer.
    let Some(prog) = (unsafe { progp.as_ref() }) else {
        return libc::EINVAL;
    };
    if prog.prog.is_null() || (prog.argv.is_null() && prog.funcname.is_null()) {
        return libc::EINVAL;
    }
    let ntasks = root.ntasks() as c_int;
    // SAFETY: the caller passes null or a valid pointer.
    let wanted = match unsafe { pipidp.as_ref() }.copied() {
        None | Some(PIP_PIPID_ANY) => None,
        Some(p) if (0..ntasks).contains(&p) => Some(p as usize),
        Some(_) => return libc::EINVAL,
    };
    let cpu = match cpu_of(coreno) {
        Ok(c) => c,
        Err(e) => return e,
    };
    // SAFETY: the caller passes NUL-terminated strings.
    let path = unsafe { CStr::from_ptr(prog.prog) }
        .to_string_lossy()
        .into_owned();
    if let Err(e) = check_program(&path) {
        return e;
    }
    // SAFETY: the caller passes a valid program description (checked non-null above).
    let mut spawn = match unsafe { spawn_of(prog, &path) } {
        Ok(s) => s,
        Err(e) => return e,
    };
    if let Some(cpu) = cpu {
        spawn = spawn.core(cpu);
    }
    match pip_core::settings::size("PIP_STACKSZ", pip_core::settings::Plain::KiB) {
        Ok(Some(size)) => spawn = spawn.stack_size(size),
        Ok(None) => {}
        Err(e) => {
            eprintln!("pip_task_spawn({path}): {e}");
            return libc::EINVAL;
        }
    }
    if let Some(p) = wanted {
        spawn = spawn.pipid(p);
    }
    spawn = spawn.aux(prog.aux);

    // SAFETY: the caller passes null or a valid pointer.
    spawn = unsafe { with_hooks(spawn, prog, hookp) };

    match root.spawn(spawn) {
        Ok(p) => {
            // SAFETY: the caller passes null or a valid pointer.
            if let Some(out) = unsafe { pipidp.as_mut() } {
                *out = p as c_int;
            }
            0
        }
        Err(e) => spawn_errno(&e, &path),
    }
}

/// The [`Spawn`] of what `prog` describes: a program's `main` or a start function, its
/// arguments and environment. An `errno` value for a start function that cannot be called.
///
/// # Safety
///
/// `prog`'s `prog` is a NUL-terminated string; `argv`, `envv` and `funcname` are null or
/// valid (the arrays null-terminated).
unsafe fn spawn_of(prog: &SpawnProgram, path: &str) -> Result<Spawn, c_int> {
    // SAFETY: as above; argv is null-terminated.
    let argv = unsafe { strings(prog.argv) };
    let mut spawn = if prog.funcname.is_null() {
        Spawn::program(path)
    } else {
        // SAFETY: as above.
        let func = unsafe { CStr::from_ptr(prog.funcname) }.to_string_lossy();
        check_start_function(path, &func)?;
        Spawn::function(path, &func, prog.arg)
    };
    spawn = spawn.args(argv.iter().skip(1).map(|a| OsStr::from_bytes(a)));
    if !prog.envv.is_null() {
        spawn = spawn.env_clear();
        // SAFETY: envv is null-terminated.
        for kv in unsafe { strings(prog.envv) } {
            if let Some(eq) = kv.iter().position(|&b| b == b'=') {
                spawn = spawn.env(
                    OsStr::from_bytes(&kv[..eq]),
                    OsStr::from_bytes(&kv[eq + 1..]),
                );
            }
        }
    }
    Ok(spawn)
}

/// Adds to `spawn` the publication of the task's [`TaskInfo`] and the user's hooks.
///
/// # Safety
///
/// `hookp` is null or valid.
unsafe fn with_hooks(mut spawn: Spawn, prog: &SpawnProgram, hookp: *mut SpawnHook) -> Spawn {
    // SAFETY: the caller passes null or a valid pointer.
    let (before, after, hookarg) = match unsafe { hookp.as_ref() } {
        Some(h) => (h.before, h.after, SendPtr(h.hookarg)),
        None => (None, None, SendPtr(std::ptr::null_mut())),
    };
    let info: &'static TaskInfo = Box::leak(Box::new(TaskInfo {
        magic: TASK_INFO_MAGIC,
        exp: prog.exp,
        // SYNC(whoami#root-identity): Acquire pairs with pip_init's Release store
        root_tid: ROOT_TID.load(Ordering::Acquire),
        // SAFETY: getpid has no preconditions.
        root_pid: unsafe { libc::getpid() },
    }));
    let info_addr = info as *const TaskInfo as usize;
    spawn = spawn.before(move || {
        publish_task_info(info_addr);
        match before {
            // SAFETY: the user's hook, called with the user's argument, as PiP does.
            Some(f) => unsafe { f(hookarg.get()) },
            None => 0,
        }
    });
    if let Some(f) = after {
        // SAFETY: as above.
        spawn = spawn.after(move || unsafe { f(hookarg.get()) });
    }
    spawn
}

/// Publishes this task's [`TaskInfo`] (runs on the new task's thread, before its `main`).
fn publish_task_info(info: usize) {
    if let Who::Task(abi, pipid) = who() {
        // SAFETY: a live root's op with a valid name; the TaskInfo is leaked.
        unsafe {
            (abi.ops.named_export)(
                abi,
                pipid,
                TASK_INFO_NAME.as_ptr(),
                TASK_INFO_NAME.len(),
                info as *mut c_void,
            );
        }
    }
}

/// PiP's errno for a failed spawn; says why on stderr when the errno alone would not.
fn spawn_errno(e: &Error, path: &str) -> c_int {
    match e {
        Error::InvalidPipid { .. } => libc::EINVAL,
        Error::TaskFile(_)
        | Error::Load { .. }
        | Error::AbiMismatch(_)
        | Error::NamespaceLimit { .. }
        | Error::System { .. } => {
            eprintln!("pip_task_spawn({path}): {e}");
            e.errno()
        }
        _ => e.errno(),
    }
}

/// PiP v1's spawn: `main` of `filename` with `argv` and `envv` (null: the root's environment)
/// on `coreno`, with hooks. `EINVAL` for a null `filename`; otherwise as [`pip_task_spawn`].
///
/// # Safety
///
/// As [`pip_task_spawn`].
#[no_mangle]
pub unsafe extern "C" fn pip_spawn(
    filename: *mut c_char,
    argv: *mut *mut c_char,
    envv: *mut *mut c_char,
    coreno: c_int,
    pipidp: *mut c_int,
    before: SpawnHookFn,
    after: SpawnHookFn,
    hookarg: *mut c_void,
) -> c_int {
    if filename.is_null() {
        return libc::EINVAL;
    }
    extern "C" {
        static mut environ: *mut *mut c_char;
    }
    let mut prog = SpawnProgram {
        prog: filename,
        argv,
        envv: if envv.is_null() {
            // SAFETY: reading libc's `environ` pointer.
            unsafe { environ }
        } else {
            envv
        },
        funcname: std::ptr::null_mut(),
        arg: std::ptr::null_mut(),
        exp: std::ptr::null_mut(),
        aux: std::ptr::null_mut(),
        reserved: [std::ptr::null_mut(); 2],
    };
    let mut hook = SpawnHook {
        before,
        after,
        hookarg,
        reserved: [std::ptr::null_mut(); 5],
    };
    // SAFETY: both structs are valid; the caller vouches for the rest.
    unsafe { pip_task_spawn(&mut prog, coreno as u32, 0, pipidp, &mut hook) }
}
