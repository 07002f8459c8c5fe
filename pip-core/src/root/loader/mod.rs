//! Loading one private copy of a program per task.
//!
//! * `shared-libc`: the (possibly patched) image is written to a fresh `memfd` and opened with
//!   `dlopen("/proc/self/fd/N", RTLD_NOW | RTLD_LOCAL)`. The loader deduplicates objects by
//!   device and inode, and **also by name**: if fd N were closed and reused, the next
//!   `dlopen("/proc/self/fd/N")` would return the previous task's copy. So every memfd stays
//!   open for the life of the process (task images are never unloaded anyway: other tasks may
//!   hold pointers into them).
//! * `namespace`: the same memfd is opened with `dlmopen(LM_ID_NEWLM, ...)`, which gives the task
//!   a private libc. The per-namespace libc chores (`__ctype_init` on the task thread, the
//!   task's `environ`, `fflush(NULL)` at the end) use the symbols gathered in [`NsLibc`].
//!
//! Constructors of the task program run here, on the thread that spawns.
//!
//! Open files: since every memfd stays open, a job of N tasks holds N descriptors. They are
//! moved to numbers at or above [`TASK_FD_FLOOR`] (`FD_SETSIZE`), so that the tasks' own
//! `open()`s still land below 1024 (where `select()` works), and [`raise_open_file_limit`]
//! raises the soft `RLIMIT_NOFILE` at `Root::init` so that the images fit above the floor.
//!
//! # Namespace count
//!
//! `NAMESPACES_USED` counts the namespaces this process's loads created. Only the root's thread
//! loads (spawning takes `&mut Root`), so it is a plain counter kept atomic for a static (Relaxed
//! everywhere).

use crate::abi::{TaskAbiInfo, TASK_INFO_SYMBOL};
use crate::elf::{inspect, TaskFileInfo, ATTACH_SYMBOL};
use crate::error::{Error, Result};
use crate::Isolation;
use std::collections::HashMap;
use std::ffi::{c_char, c_int, c_void, CStr, CString};
use std::io::Write;
use std::os::fd::{FromRawFd, IntoRawFd};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// `pip_rs_task_attach(abi, pipid, argv, envp)`.
pub(crate) type AttachFn = unsafe extern "C" fn(
    *const crate::abi::RootAbi,
    c_int,
    *const *const c_char,
    *const *const c_char,
) -> c_int;
/// `void pip_rs_task_exit(int)` (unwinds, never returns).
pub(crate) type ExitFn = unsafe extern "C-unwind" fn(c_int);
/// `void f(void)`.
pub(crate) type VoidFn = unsafe extern "C" fn();

/// The per-namespace libc symbols a task in namespace isolation needs.
#[derive(Clone, Copy)]
pub(crate) struct NsLibc {
    pub ctype_init: Option<VoidFn>,
    pub environ: *mut *const *const c_char,
    pub fflush: Option<unsafe extern "C" fn(*mut c_void) -> c_int>,
    pub on_exit: Option<
        unsafe extern "C" fn(unsafe extern "C-unwind" fn(c_int, *mut c_void), *mut c_void) -> c_int,
    >,
}

/// A loaded task image.
pub(crate) struct Image {
    /// The entry: `int main(int, char**, char**)` or `int f(void*)`.
    pub entry: *const c_void,
    /// Set for Rust tasks built with pip-core.
    pub attach: Option<AttachFn>,
    pub flush: Option<VoidFn>,
    /// `pip_rs_task_exit`: ends a Rust task by unwinding its own stack.
    pub exit: Option<ExitFn>,
    pub ns: Option<NsLibc>,
    /// Shared-libc isolation: the key under which pip-core keeps this image's exit handlers
    /// (its memfd number; -1 otherwise), see `root::exit_handlers`.
    pub exit_key: c_int,
}

// SAFETY: an Image only holds addresses inside loaded, never-unloaded objects.
unsafe impl Send for Image {}

/// A checked program, ready to be copied into memfds.
struct Prepared {
    bytes: Vec<u8>,
    info: TaskFileInfo,
}

/// Caches checked, patched program images by path, so that spawning many copies of one
/// program reads and checks the file once.
#[derive(Default)]
pub(crate) struct Loader {
    cache: Mutex<HashMap<PathBuf, Arc<Prepared>>>,
    /// `PIP_FULL_IMAGE`: copy the whole file, not just what the loader maps.
    full_image: bool,
}

/// Task image memfds are moved to descriptor numbers at or above this (`FD_SETSIZE`): the
/// numbers below it stay free for the tasks' own files, which `select()` can only watch there.
pub(crate) const TASK_FD_FLOOR: libc::c_int = 1024;

/// Descriptors left free above the task images for the root and tasks (the wait board, files
/// opened once the numbers below the floor are used up).
const FD_HEADROOM: u64 = 64;

/// Raises the soft open-file limit (`RLIMIT_NOFILE`) so that `ntasks` task images fit above
/// [`TASK_FD_FLOOR`], up to the hard limit; never lowers it. Best effort: when the hard limit
/// is too low, spawning reports `memfd_create` failing with "too many open files" and says
/// how to raise it.
pub(crate) fn raise_open_file_limit(ntasks: usize) {
    let want = TASK_FD_FLOOR as u64 + ntasks as u64 + FD_HEADROOM;
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes one rlimit struct.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 || lim.rlim_cur >= want {
        return;
    }
    let raised = libc::rlimit {
        rlim_cur: want.min(lim.rlim_max),
        rlim_max: lim.rlim_max,
    };
    if raised.rlim_cur > lim.rlim_cur {
        // SAFETY: setrlimit reads one rlimit struct; a soft limit up to the hard one is allowed.
        unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) };
    }
}

/// What to do when a job runs out of descriptors.
const NOFILE_HINT: &str = "every task keeps its image open as a memfd, so a job needs one descriptor per task on top of its own files; pip-core raises the soft open-file limit as far as the hard one, so raise the hard limit (`ulimit -Hn`)";

/// Moves a fresh task-image descriptor to a number at or above [`TASK_FD_FLOOR`] (keeping it
/// close-on-exec) and returns the new number; keeps `fd` when there is no room up there.
fn move_above_floor(fd: libc::c_int) -> libc::c_int {
    if fd >= TASK_FD_FLOOR {
        return fd;
    }
    // SAFETY: duplicating a descriptor we own; the old one is closed only on success.
    let high = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, TASK_FD_FLOOR) };
    if high < 0 {
        return fd;
    }
    // SAFETY: `fd` is ours, nothing was loaded from it, and `high` now refers to the same file.
    unsafe { libc::close(fd) };
    high
}

/// Namespaces created by this process so far (they are never freed).
static NAMESPACES_USED: AtomicUsize = AtomicUsize::new(0);

extern "C" {
    fn dlinfo(handle: *mut c_void, request: c_int, info: *mut c_void) -> c_int;
    fn dlmopen(lmid: libc::c_long, filename: *const c_char, flags: c_int) -> *mut c_void;
}
const RTLD_DI_LMID: c_int = 1;
const RTLD_DI_LINKMAP: c_int = 2;
const LM_ID_NEWLM: libc::c_long = -1;

#[repr(C)]
struct LinkMap {
    l_addr: usize,
}

fn dl_error() -> String {
    // SAFETY: dlerror returns null or a NUL-terminated string owned by libc.
    let e = unsafe { libc::dlerror() };
    if e.is_null() {
        "unknown error".into()
    } else {
        // SAFETY: non-null, NUL-terminated.
        unsafe { CStr::from_ptr(e) }.to_string_lossy().into_owned()
    }
}

fn sym(handle: *mut c_void, name: &str) -> *mut c_void {
    let c = CString::new(name).expect("symbol names have no NUL");
    // SAFETY: `handle` is a live handle from dlopen/dlmopen; `c` is NUL-terminated.
    unsafe { libc::dlsym(handle, c.as_ptr()) }
}

/// The namespace limit of this process, and why (naming the `GLIBC_TUNABLES` the process
/// was started with when they do not raise it).
pub(crate) fn namespace_limit() -> (usize, String) {
    let tunables = tunables_at_start();
    match tunables.as_deref().and_then(nns_in_tunables) {
        Some(n) if n >= 16 => (
            15,
            "glibc's hard limit: 16 link namespaces, one of them the root's".into(),
        ),
        nns => {
            let seen = match (&tunables, nns) {
                (None, _) => "this process was started without GLIBC_TUNABLES".to_string(),
                (Some(t), None) => format!(
                    "this process was started with GLIBC_TUNABLES={t:?}, which does not set glibc.rtld.nns"
                ),
                (Some(t), Some(n)) => format!(
                    "this process was started with GLIBC_TUNABLES={t:?}, which sets glibc.rtld.nns={n}"
                ),
            };
            (
                11,
                format!("stock glibc's static TLS surplus fits 11 private libcs and {seen}; start the root with GLIBC_TUNABLES=glibc.rtld.nns=16 (pip-exec and pip_core::reexec_with_more_namespaces_if_needed do this) for 15"),
            )
        }
    }
}

/// How many namespaces are still available to this process.
pub(crate) fn namespaces_left() -> usize {
    namespace_limit()
        .0
        // SYNC(root::loader#namespace-count): a counter changed only on the root's thread (Relaxed)
        .saturating_sub(NAMESPACES_USED.load(Ordering::Relaxed))
}

/// `GLIBC_TUNABLES` as the process was started with it (tunables are read once, at start-up,
/// so the current environment does not matter), or `None` if it was not set.
fn tunables_at_start() -> Option<String> {
    tunables_in_start_environment(&std::fs::read("/proc/self/environ").ok()?)
}

/// Finds `GLIBC_TUNABLES` in the start-up environment block (`/proc/self/environ`: `NAME=value`
/// entries, each ending with a NUL).
///
/// glibc (2.36 at least) parses the variable in place: it overwrites the `:` after each tunable
/// it recognises with a NUL, so `GLIBC_TUNABLES=glibc.malloc.check=0:glibc.rtld.nns=16` reads
/// back as two entries, `GLIBC_TUNABLES=glibc.malloc.check=0` and `glibc.rtld.nns=16`. The
/// entries that follow and look like tunables (`glibc.` names) are therefore part of its value;
/// they are joined back with `:`.
fn tunables_in_start_environment(environ: &[u8]) -> Option<String> {
    let mut entries = environ.split(|&b| b == 0);
    let first = entries.find_map(|kv| kv.strip_prefix(b"GLIBC_TUNABLES="))?;
    let mut value = String::from_utf8_lossy(first).into_owned();
    for rest in entries.take_while(|kv| kv.starts_with(b"glibc.") && kv.contains(&b'=')) {
        value.push(':');
        value.push_str(&String::from_utf8_lossy(rest));
    }
    Some(value)
}

/// The `glibc.rtld.nns` a `GLIBC_TUNABLES` value sets (the last one wins, as in glibc).
fn nns_in_tunables(tunables: &str) -> Option<usize> {
    tunables
        .split(':')
        .filter_map(|t| t.strip_prefix("glibc.rtld.nns="))
        .filter_map(|n| n.parse().ok())
        .next_back()
}

/// `glibc.rtld.nns` as the process was started with.
pub(crate) fn initial_nns() -> Option<usize> {
    nns_in_tunables(&tunables_at_start()?)
}

/// Cuts the copy down to what the dynamic loader maps, and drops the section header table that
/// pointed past it. A release build with debug info is mostly sections the loader never reads;
/// copying them into every task's memfd would dominate the spawn time. `PIP_FULL_IMAGE=1` keeps
/// the whole file (debuggers and symbolised backtraces then find `.symtab` and debug info in the
/// task's image).
fn strip_to_loaded_part(bytes: &mut Vec<u8>, load_end: usize) {
    if load_end >= bytes.len() || bytes.len() < 64 {
        return;
    }
    bytes.truncate(load_end);
    // ELF64 header: e_shoff at 0x28 (8 bytes), e_shnum at 0x3c, e_shstrndx at 0x3e (2 bytes each).
    bytes[0x28..0x30].fill(0);
    bytes[0x3c..0x40].fill(0);
}

impl Loader {
    /// A loader that copies whole program files (`full_image`) or only their loaded part.
    pub(crate) fn new(full_image: bool) -> Loader {
        Loader {
            full_image,
            ..Loader::default()
        }
    }

    fn prepare(&self, path: &Path) -> Result<Arc<Prepared>> {
        if let Some(p) = self.cache.lock().unwrap().get(path) {
            return Ok(p.clone());
        }
        let (mut bytes, info) = inspect(path)?;
        if let Some(off) = info.pie_flag_offset {
            // Clear DF_1_PIE in our copy only: glibc refuses to dlopen a PIE.
            let mut v = u64::from_le_bytes(bytes[off..off + 8].try_into().unwrap());
            v &= !u64::from(object::elf::DF_1_PIE);
            bytes[off..off + 8].copy_from_slice(&v.to_le_bytes());
        }
        if !self.full_image {
            strip_to_loaded_part(&mut bytes, info.load_end);
        }
        let p = Arc::new(Prepared { bytes, info });
        self.cache
            .lock()
            .unwrap()
            .insert(path.to_path_buf(), p.clone());
        Ok(p)
    }

    /// Checks `path` and its `entry` symbol without loading anything.
    pub(crate) fn check(&self, path: &Path, entry: &str) -> Result<()> {
        let p = self.prepare(path)?;
        p.info
            .entry(entry)
            .map_err(|reason| crate::elf::TaskFileRefused {
                path: path.to_path_buf(),
                reason,
            })?;
        if let Some(abi) = p.info.task_abi {
            abi.check()
                .map_err(|m| Error::AbiMismatch(format!("{}: {m}", path.display())))?;
        }
        Ok(())
    }

    /// Loads a private copy of `path` and finds `entry` in it.
    pub(crate) fn load(&self, path: &Path, entry: &str, isolation: Isolation) -> Result<Image> {
        let p = self.prepare(path)?;
        let entry_sym = p
            .info
            .entry(entry)
            .map_err(|reason| crate::elf::TaskFileRefused {
                path: path.to_path_buf(),
                reason,
            })?;
        p.info
            .check_copy_relocations(isolation == Isolation::Namespace)
            .map_err(|reason| crate::elf::TaskFileRefused {
                path: path.to_path_buf(),
                reason,
            })?;
        if isolation == Isolation::Namespace && namespaces_left() == 0 {
            let (limit, why) = namespace_limit();
            return Err(Error::NamespaceLimit { limit, why });
        }

        let fd = write_image(path, &p.bytes)?;
        let (handle, exit_key) = open_image(path, fd, isolation)?;
        if isolation == Isolation::Namespace {
            // SYNC(root::loader#namespace-count): a counter changed only on the root's thread (Relaxed)
            NAMESPACES_USED.fetch_add(1, Ordering::Relaxed);
        }

        let entry_addr = entry_address(handle, entry, &entry_sym, path)?;
        let mut image = Image {
            entry: entry_addr,
            attach: None,
            flush: None,
            exit: None,
            ns: None,
            exit_key,
        };
        if p.info.is_pip_rs_task {
            attach_rust_task(&mut image, handle)?;
        }
        if isolation == Isolation::Namespace {
            image.ns = Some(ns_libc(handle));
        }
        Ok(image)
    }
}

/// Writes a task image into a memfd of its own (above the descriptor floor), kept open for the
/// life of the process (see the module docs).
fn write_image(path: &Path, bytes: &[u8]) -> Result<c_int> {
    let name = CString::new(format!(
        "pip-task:{}",
        path.file_name()
            .map(|s| s.to_string_lossy())
            .unwrap_or_default()
    ))
    .unwrap_or_else(|_| CString::new("pip-task").unwrap());
    // SAFETY: memfd_create with a valid name; the fd is owned below.
    let fd = unsafe { libc::memfd_create(name.as_ptr(), libc::MFD_CLOEXEC) };
    if fd < 0 {
        let source = std::io::Error::last_os_error();
        if source.raw_os_error() == Some(libc::EMFILE) {
            return Err(Error::Load {
                path: path.display().to_string(),
                message: format!("{source} when creating its image's memfd ({NOFILE_HINT})"),
            });
        }
        return Err(Error::os("memfd_create"));
    }
    let fd = move_above_floor(fd);
    // SAFETY: `fd` is a fresh descriptor we own.
    let mut file = unsafe { std::fs::File::from_raw_fd(fd) };
    file.write_all(bytes).map_err(|source| Error::System {
        op: "writing the task image",
        source,
    })?;
    // Keep the descriptor open for the life of the process (see the module docs).
    Ok(file.into_raw_fd())
}

/// Opens the image in memfd `fd` with the dynamic loader (running its constructors): the
/// handle, and the key its exit handlers are kept under (-1: left to libc).
fn open_image(path: &Path, fd: c_int, isolation: Isolation) -> Result<(*mut c_void, c_int)> {
    let proc_path = CString::new(format!("/proc/self/fd/{fd}")).unwrap();
    let flags = libc::RTLD_NOW | libc::RTLD_LOCAL;
    // A shared-libc task's exit handlers (registered from its constructors too) are kept
    // for the task's end, not left to the process's exit.
    let exit_key = if isolation == Isolation::SharedLibc {
        crate::root::exit_handlers::track(fd);
        fd
    } else {
        -1
    };
    let constructors = crate::root::exit_handlers::loading(exit_key);
    // SAFETY: a valid path and flags; the loader runs the object's constructors.
    let handle = unsafe {
        match isolation {
            Isolation::SharedLibc => libc::dlopen(proc_path.as_ptr(), flags),
            Isolation::Namespace => dlmopen(LM_ID_NEWLM, proc_path.as_ptr(), flags),
        }
    };
    drop(constructors);
    if handle.is_null() {
        let message = dl_error();
        // SAFETY: `fd` is ours and nothing was loaded from it.
        unsafe { libc::close(fd) };
        return Err(Error::Load {
            path: path.display().to_string(),
            message: explain_load_error(message, isolation),
        });
    }
    Ok((handle, exit_key))
}

/// The dynamic loader's `message`, with what to do about the known failures.
fn explain_load_error(message: String, isolation: Isolation) -> String {
    if isolation == Isolation::Namespace
        && (message.contains("static TLS") || message.contains("no more namespaces"))
    {
        format!(
            "{message} (the glibc namespace limit: {})",
            namespace_limit().1
        )
    } else if message.contains("Too many open files") {
        format!("{message} ({NOFILE_HINT})")
    } else if message.contains("static TLS") {
        format!("{message} (the program uses initial-exec thread-locals, so every copy takes space in a small static TLS area: build it without `-ftls-model=initial-exec`, or start the root with a larger GLIBC_TUNABLES=glibc.rtld.optional_static_tls)")
    } else {
        message
    }
}

/// The address of the entry `entry` (`sym`, as the file's symbol table gives it) in the image
/// `handle`: by `dlsym` when exported, else from the image's load address.
fn entry_address(
    handle: *mut c_void,
    entry: &str,
    entry_sym: &crate::elf::SymbolInfo,
    path: &Path,
) -> Result<*mut c_void> {
    let entry_addr = if entry_sym.exported {
        sym(handle, entry)
    } else {
        let mut map: *mut LinkMap = std::ptr::null_mut();
        // SAFETY: RTLD_DI_LINKMAP writes a `struct link_map *`; l_addr is its first field.
        unsafe {
            dlinfo(
                handle,
                RTLD_DI_LINKMAP,
                (&mut map as *mut *mut LinkMap).cast(),
            );
            (*map).l_addr as *mut c_void
        }
        .wrapping_add(entry_sym.value as usize)
    };
    if entry_addr.is_null() {
        return Err(Error::Load {
            path: path.display().to_string(),
            message: format!("`{entry}` not found after loading: {}", dl_error()),
        });
    }
    Ok(entry_addr)
}

/// Checks a pip-rs task's ABI block and finds its attach, flush and exit functions.
fn attach_rust_task(image: &mut Image, handle: *mut c_void) -> Result<()> {
    let info = sym(handle, TASK_INFO_SYMBOL) as *const TaskAbiInfo;
    let check = if info.is_null() {
        Err(format!(
            "the task exports {ATTACH_SYMBOL} but not {TASK_INFO_SYMBOL}"
        ))
    } else {
        // SAFETY: a pip-rs task exports its TaskAbiInfo static under this name; `check`
        // reads only the magic first, then the rest once the magic matches.
        unsafe { &*info }.check()
    };
    check.map_err(Error::AbiMismatch)?;
    let attach = sym(handle, ATTACH_SYMBOL);
    let flush = sym(handle, "pip_rs_task_flush");
    let exit = sym(handle, "pip_rs_task_exit");
    // SAFETY: both symbols are pip-core functions with these exact signatures (the ABI
    // version was checked just above).
    unsafe {
        image.attach = Some(std::mem::transmute::<*mut c_void, AttachFn>(attach));
        image.flush = (!flush.is_null()).then(|| std::mem::transmute::<*mut c_void, VoidFn>(flush));
        image.exit = (!exit.is_null()).then(|| std::mem::transmute::<*mut c_void, ExitFn>(exit));
    }
    Ok(())
}

/// Finds the private libc of the namespace `handle` was loaded into.
fn ns_libc(handle: *mut c_void) -> NsLibc {
    let mut lmid: libc::c_long = 0;
    // SAFETY: RTLD_DI_LMID writes an Lmid_t (long).
    unsafe {
        dlinfo(
            handle,
            RTLD_DI_LMID,
            (&mut lmid as *mut libc::c_long).cast(),
        )
    };
    // SAFETY: RTLD_NOLOAD only returns the libc already loaded in that namespace.
    let libc_handle = unsafe {
        dlmopen(
            lmid,
            c"libc.so.6".as_ptr(),
            libc::RTLD_NOW | libc::RTLD_NOLOAD,
        )
    };
    let get = |n: &str| {
        if libc_handle.is_null() {
            std::ptr::null_mut()
        } else {
            sym(libc_handle, n)
        }
    };
    let (ctype, environ, fflush, on_exit) = (
        get("__ctype_init"),
        get("environ"),
        get("fflush"),
        get("on_exit"),
    );
    // SAFETY: these are the namespace libc's own functions, with these C signatures.
    unsafe {
        NsLibc {
            ctype_init: (!ctype.is_null())
                .then(|| std::mem::transmute::<*mut c_void, VoidFn>(ctype)),
            environ: environ.cast(),
            fflush: (!fflush.is_null()).then(|| std::mem::transmute(fflush)),
            on_exit: (!on_exit.is_null()).then(|| std::mem::transmute(on_exit)),
        }
    }
}

/// Makes room for `ntasks` tasks in namespace isolation: if stock glibc's limit is too low,
/// re-executes the current program with `GLIBC_TUNABLES=glibc.rtld.nns=16` (the tunable is read
/// only at start-up), which raises the limit to 15. Returns `Ok` when the tasks fit; an error
/// when even 15 is not enough or the re-execution failed. Call it early, before the program
/// has done anything it should not do twice.
pub fn reexec_with_more_namespaces_if_needed(ntasks: usize) -> Result<()> {
    if ntasks <= namespaces_left() {
        return Ok(());
    }
    // SYNC(root::loader#namespace-count): a counter changed only on the root's thread (Relaxed)
    let used = NAMESPACES_USED.load(Ordering::Relaxed);
    if initial_nns().is_some_and(|n| n >= 16)
        || used > 0
        || std::env::var_os("PIP_RS_REEXECED").is_some()
    {
        let (limit, why) = namespace_limit();
        return Err(Error::NamespaceLimit { limit, why });
    }
    if ntasks > 15 {
        return Err(Error::NamespaceLimit {
            limit: 15,
            why: "glibc's hard limit: 16 link namespaces, one of them the root's".into(),
        });
    }
    use std::os::unix::process::CommandExt;
    let tunables = match std::env::var("GLIBC_TUNABLES") {
        Ok(t) if !t.is_empty() => format!("{t}:glibc.rtld.nns=16"),
        _ => "glibc.rtld.nns=16".to_string(),
    };
    let mut args = std::env::args_os();
    let arg0 = args.next().unwrap_or_default();
    let err = std::process::Command::new("/proc/self/exe")
        .arg0(arg0)
        .args(args)
        .env("GLIBC_TUNABLES", tunables)
        .env("PIP_RS_REEXECED", "1")
        .exec();
    Err(Error::System {
        op: "re-executing the root with GLIBC_TUNABLES=glibc.rtld.nns=16",
        source: err,
    })
}

#[cfg(test)]
mod tests;
