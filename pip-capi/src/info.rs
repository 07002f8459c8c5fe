//! The runnable library and the semi-public helpers of `pip.h`.
//!
//! `libpip.so` can be run like a program, as PiP's can: `./libpip.so --version` prints the PiP
//! API version it implements, `--debug` whether it is a debug build, and so on (see
//! [`pip_capi_run_as_program`]). The entry point is in `src/c/shim.c`; build.rs sets it
//! (`-Wl,-e`) and the `.interp` section that names the dynamic linker.

use crate::whoami::{c_pipid, who, Who};
use std::ffi::{c_char, c_int, CStr};
use std::io::Write;

/// The build facts, as `(option, label, value)`.
fn facts() -> Vec<(&'static str, &'static str, String)> {
    extern "C" {
        fn gnu_get_libc_version() -> *const c_char;
    }
    // SAFETY: returns a static NUL-terminated string.
    let glibc = unsafe { CStr::from_ptr(gnu_get_libc_version()) }
        .to_string_lossy()
        .into_owned();
    let prefix = std::fs::read_link("/proc/self/exe")
        .ok()
        .and_then(|p| p.parent().map(|d| d.display().to_string()))
        .unwrap_or_default();
    vec![
        (
            "--name",
            "Name",
            "pip-rs (Process-in-Process for Rust)".into(),
        ),
        (
            "--version",
            "Version",
            crate::consts::PIP_API_VERSION.into(),
        ),
        (
            "--pip-rs-version",
            "pip-rs version",
            env!("CARGO_PKG_VERSION").into(),
        ),
        ("--license", "License", env!("CARGO_PKG_LICENSE").into()),
        (
            "--os",
            "OS",
            format!("{} {}", std::env::consts::OS, std::env::consts::ARCH),
        ),
        ("--cc", "C compiler", env!("PIP_CAPI_CC").into()),
        ("--prefix", "Prefix", prefix),
        ("--glibc", "glibc", glibc),
        ("--ldlinux", "ld-linux", env!("PIP_CAPI_INTERP").into()),
        ("--mode", "Modes", "pthread process".into()),
        (
            "--debug",
            "Debug",
            if cfg!(debug_assertions) { "yes" } else { "no" }.into(),
        ),
    ]
}

fn usage(err: &mut dyn Write) {
    let _ = writeln!(
        err,
        "usage: libpip.so [OPTION]...\nPrints how this PiP library was built; with no option, everything.\nOptions:"
    );
    for (opt, label, _) in facts() {
        let _ = writeln!(err, "  {opt:<18} {label}");
    }
}

/// What `./libpip.so ARGS` does: prints the build facts the options ask for (all of them with
/// no option), one per line; `--help`, `--usage` or an unknown option print the usage and give
/// exit code 1 (as PiP's library does for `--help`).
///
/// # Safety
///
/// `argv` holds `argc` valid C strings.
#[no_mangle]
pub unsafe extern "C" fn pip_capi_run_as_program(argc: c_int, argv: *const *const c_char) -> c_int {
    let args: Vec<String> = (1..argc.max(0) as usize)
        .map(|i| {
            // SAFETY: guaranteed by the caller.
            unsafe { CStr::from_ptr(*argv.add(i)) }
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    let facts = facts();
    let mut out = std::io::stdout().lock();
    if args.is_empty() {
        for (_, label, value) in &facts {
            let _ = writeln!(out, "{:<16} {value}", format!("{label}:"));
        }
        return 0;
    }
    for a in &args {
        match facts.iter().find(|(opt, _, _)| opt == a) {
            Some((_, _, value)) => {
                let _ = writeln!(out, "{value}");
            }
            None => {
                let _ = out.flush();
                let mut err = std::io::stderr().lock();
                if a != "--help" && a != "--usage" {
                    let _ = writeln!(err, "libpip.so: unknown option `{a}`");
                }
                usage(&mut err);
                return 1;
            }
        }
    }
    0
}

/// The calling thread's kernel thread id.
#[no_mangle]
pub extern "C" fn pip_gettid() -> libc::pid_t {
    // SAFETY: gettid has no preconditions.
    unsafe { libc::syscall(libc::SYS_gettid) as libc::pid_t }
}

fn id_string() -> String {
    match who() {
        Who::Nobody => "<->".into(),
        Who::Root(_) => "<R>".into(),
        Who::Task(_, p) => format!("<T:{}>", c_pipid(p)),
    }
}

/// Writes who is calling (`<R>`, `<T:3>`, or `<->` outside a PiP job) into `buf` (truncated to
/// `size - 1` bytes and NUL-terminated); returns the full length.
///
/// # Safety
///
/// `buf` is null or valid for `size` bytes.
#[no_mangle]
pub unsafe extern "C" fn pip_idstr(buf: *mut c_char, size: usize) -> usize {
    let s = id_string();
    if !buf.is_null() && size > 0 {
        let n = s.len().min(size - 1);
        // SAFETY: `buf` has room for `size` bytes and n < size.
        unsafe {
            std::ptr::copy_nonoverlapping(s.as_ptr(), buf.cast(), n);
            *buf.add(n) = 0;
        }
    }
    s.len()
}

/// Prints a message of `pip_info_mesg` (level 0), `pip_warn_mesg` (1) or `pip_err_mesg` (2),
/// called by those inline functions of `pip.h` with the formatted text.
///
/// # Safety
///
/// `text` is a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn pip_capi_message(level: c_int, text: *const c_char) {
    let tag = match level {
        0 => "PiP-INFO",
        1 => "PiP-WARN",
        _ => "PiP-ERR",
    };
    // SAFETY: guaranteed by the caller.
    let text = unsafe { CStr::from_ptr(text) }.to_string_lossy();
    eprintln!("{tag}{} {}", id_string(), text.trim_end_matches('\n'));
}

/// Whether `path` can be a task starting at `main`: 0, or the errno `pip_task_spawn` would
/// give (`ENOENT`, `EACCES`, `ELIBBAD`, `ELIBEXEC`, `ENOEXEC`). With `verbose`, the reason goes
/// to stderr.
///
/// # Safety
///
/// `path` is null or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn pip_check_pie(path: *const c_char, verbose: c_int) -> c_int {
    if path.is_null() {
        return libc::EINVAL;
    }
    // SAFETY: guaranteed by the caller.
    let p = unsafe { CStr::from_ptr(path) }
        .to_string_lossy()
        .into_owned();
    let path = std::path::PathBuf::from(&p);
    let r = pip_core::elf::inspect(&path).and_then(|(_, info)| {
        info.entry("main")
            .map(|_| ())
            .map_err(|reason| pip_core::elf::TaskFileRefused {
                path: path.clone(),
                reason,
            })
    });
    match r {
        Ok(()) => 0,
        Err(e) => {
            if verbose != 0 {
                eprintln!("{e}");
            }
            pip_core::Error::from(e).errno()
        }
    }
}

/// 1 if this library is a debug build (as `libpip.so --debug` says), else 0. PiP's test
/// programs use it to scale their time limits and loop counts.
#[no_mangle]
pub extern "C" fn pip_is_debug_build() -> c_int {
    cfg!(debug_assertions) as c_int
}

/// PiP's debugging aid: with `PIP_SHOW_MAPS=on` prints the memory map of the process
/// (`/proc/self/maps`) on stderr. (PiP also runs `pips` and attaches PiP-gdb; pip-rs has no
/// PiP-gdb, and `pips` can be run by hand.)
#[no_mangle]
pub extern "C" fn pip_debug_info() {
    let on = |var: &str| std::env::var(var).is_ok_and(|v| v.eq_ignore_ascii_case("on"));
    if on("PIP_SHOW_MAPS") {
        match std::fs::read_to_string("/proc/self/maps") {
            Ok(maps) => eprint!("PiP-INFO{} *** Show MAPS\n{maps}", id_string()),
            Err(e) => eprintln!("PiP-ERR{} cannot read /proc/self/maps: {e}", id_string()),
        }
    }
}

/// The time of day in seconds, as a double (PiP v2.4's `pip_gettime`).
#[no_mangle]
pub extern "C" fn pip_gettime() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}
