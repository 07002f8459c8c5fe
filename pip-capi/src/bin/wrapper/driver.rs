//! The compiler driver behind `pipcc` (C) and `pipfc` (Fortran): compiles and links programs
//! against the PiP C API (`pip.h`, `libpip.so`).
//!
//! ```text
//! pipcc [--piproot|--piptask|--nopip] [CC OPTIONS] FILES...    compile and/or link
//! pipcc --cflags | --lflags | --which | --where                 print what pipcc uses
//! pipfc ...                                                     the same, for Fortran
//! ```
//!
//! By default the output can be both a PiP root and a PiP task: it is a PIE (`-fPIC -pie`: code
//! compiled `-fPIC` has no copy relocations, which a task in its own link namespace cannot use)
//! linked `-rdynamic` (so the loader finds `main`), with `libpip.so` (`-L`, `-Wl,-rpath`,
//! `-lpip`, placed before libc so that libpip's `exit` is the one tasks call). `-lpip` is passed
//! inside `-Wl,--push-state,--no-as-needed` ... `-Wl,--pop-state`, so the program depends on
//! `libpip.so` even when it calls no PiP function and the linker defaults to `--as-needed`
//! (Ubuntu's does): such a program is still a root (pip-check looks for the dependency). pipcc never
//! modifies the program file: pip-core loads a PIE from an in-memory copy. `--piproot` builds a
//! root only (`-no-pie`, no `-rdynamic`), `--piptask` a task only (the same flags as the
//! default), `--nopip` runs the C compiler unchanged. `-static` is refused (a static program
//! cannot load tasks). With `-shared` the output is a shared object (no `-pie`, which would
//! override it, and no `-rdynamic`), so a task may have no `main` (`pip-exec -f`); it also gets a small
//! entry point (`pip_core::direct_run`, assembled from a temporary file), so that running it as
//! a program prints how to run it with pip-exec and exits with 2 instead of crashing.
//!
//! pipcc finds `libpip.so` next to itself (the build tree: `target/<profile>/`, where cargo puts
//! both) or in `../lib` (an installed tree: `bin/pipcc`, `lib/libpip.so`, `include/pip/pip.h`),
//! and the headers in `../include` or in the source tree it was built from. The compiler is
//! `$CC` (pipfc: `$FC`), or `cc` (pipfc: `gfortran`); like PiP's pipcc, the variable is split
//! into words at white space, so `CC="cc -v -O3"` runs `cc` with `-v -O3` first (no shell
//! quoting is understood). `--version` prints the driver's version line (`pipcc (pip-rs)
//! 0.1.0`), then runs the compiler with it. Every option not listed here goes to the compiler.

use std::path::{Path, PathBuf};
use std::process::{exit, Command};

/// The language a driver compiles.
// Each binary (pipcc, pipfc) builds this module and constructs only its own language.
#[allow(dead_code)]
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// C (and C++ through `CC=c++`): `pipcc`, `$CC`, default `cc`.
    C,
    /// Fortran: `pipfc`, `$FC`, default `gfortran`.
    Fortran,
}

impl Lang {
    /// The driver's name, used in its messages.
    fn tool(self) -> &'static str {
        match self {
            Lang::C => "pipcc",
            Lang::Fortran => "pipfc",
        }
    }

    /// The environment variable naming the compiler, and the compiler used when it is unset.
    fn compiler_var(self) -> (&'static str, &'static str) {
        match self {
            Lang::C => ("CC", "cc"),
            Lang::Fortran => ("FC", "gfortran"),
        }
    }

    /// The compiler command: the variable split into words at white space (as a shell splits
    /// an unquoted `$CC`), or the default.
    fn compiler(self) -> Vec<String> {
        let (var, default) = self.compiler_var();
        let words: Vec<String> = std::env::var(var)
            .unwrap_or_default()
            .split_whitespace()
            .map(String::from)
            .collect();
        if words.is_empty() {
            vec![default.to_string()]
        } else {
            words
        }
    }
}

/// What kind of program to build.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Root and task (the default).
    Both,
    /// Root only.
    Root,
    /// Task only.
    Task,
    /// No PiP at all: the plain compiler.
    NoPip,
}

/// Where pipcc found its pieces.
struct Layout {
    /// The directory holding `libpip.so`.
    lib: PathBuf,
    /// The directory holding `pip/pip.h`.
    include: PathBuf,
}

fn layout() -> Result<Layout, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find the driver itself: {e}"))?;
    let exe = exe.canonicalize().unwrap_or(exe);
    let dir = exe.parent().unwrap_or(Path::new("/")).to_path_buf();
    let lib = [dir.clone(), dir.join("../lib"), dir.join("../lib64")]
        .into_iter()
        .find(|d| d.join("libpip.so").exists())
        .ok_or_else(|| {
            format!(
                "libpip.so is neither next to the driver ({}) nor in ../lib: build it with `cargo build -p pip-capi`",
                dir.display()
            )
        })?;
    let source_include = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("include");
    let include = [dir.join("../include"), source_include]
        .into_iter()
        .find(|d| d.join("pip/pip.h").exists())
        .ok_or("pip/pip.h is neither in ../include nor in the driver's source tree")?;
    let clean = |p: PathBuf| p.canonicalize().unwrap_or(p);
    Ok(Layout {
        lib: clean(lib),
        include: clean(include),
    })
}

/// The version macros pipcc defines (the PiP API version, as PiP's pipcc does).
const DEFINES: [&str; 5] = [
    "-DPIPCC",
    "-DPIP_VERSION=2.0.0",
    "-DPIP_VERSION_MAJOR=2",
    "-DPIP_VERSION_MINOR=0",
    "-DPIP_VERSION_SUBMINOR=0",
];

fn cflags(l: &Layout) -> Vec<String> {
    let mut v = vec![format!("-I{}", l.include.display())];
    v.extend(DEFINES.iter().map(|s| s.to_string()));
    // -fPIC, not -fPIE: PIE code reaches libc's data (stdout, stderr, environ) through copy
    // relocations, which break a task loaded into its own link namespace.
    v.push("-fPIC".to_string());
    v
}

/// The link flags; `shared` when the user links a shared object (`-shared`), which then gets
/// neither `-pie` (which, coming later, would override `-shared`) nor `-rdynamic`.
fn lflags(l: &Layout, kind: Kind, shared: bool) -> Vec<String> {
    let mut v = Vec::new();
    if shared {
        // A shared object exports its symbols anyway.
    } else if kind == Kind::Root {
        v.push("-no-pie".to_string());
    } else {
        v.push("-pie".to_string());
        v.push("-rdynamic".to_string());
    }
    v.push(format!("-L{}", l.lib.display()));
    v.push(format!("-Wl,-rpath,{}", l.lib.display()));
    v.push("-Wl,--disable-new-dtags".to_string());
    // Depend on libpip.so even when the linker drops unused libraries by default
    // (`--as-needed`): a program that calls no PiP function is still a root, and its tasks bind
    // to libpip's `exit`. push/pop-state restores whatever the user asked for around it.
    v.push("-Wl,--push-state,--no-as-needed".to_string());
    v.push("-lpip".to_string());
    v.push("-Wl,--pop-state".to_string());
    v.push("-ldl".to_string());
    v.push("-pthread".to_string());
    v
}

const USAGE: &str = "usage: TOOL [--piproot|--piptask|--nopip] [compiler options] files...
       TOOL --cflags | --lflags | --which | --where | --help
Compiles and links LANG programs with the PiP C API (pip.h, libpip.so). By default the program
can be both a PiP root and a PiP task (a PIE linked -rdynamic with libpip.so); with -shared it
is a shared-object task, whose entry point says how to run it when it is run as a program.
  --piproot   build a root only          --piptask   build a task only (same flags as default)
  --nopip     run the compiler unchanged --cflags    print the compile flags
  --lflags    print the link flags       --which     print the compiler used
  --where     print where libpip.so and pip.h are
  --version   print TOOL's version, then the compiler's
  --dryrun    print the compiler command instead of running it
The compiler is $VAR (split into words at white space), or DEFAULT. -static is refused.";

/// Runs the driver for `lang` on the process's arguments; never returns.
pub fn run(lang: Lang) -> ! {
    let tool = lang.tool();
    let (var, default) = lang.compiler_var();
    let usage = USAGE
        .replace("TOOL", tool)
        .replace("LANG", if lang == Lang::C { "C" } else { "Fortran" })
        .replace("VAR", var)
        .replace("DEFAULT", default);
    let fail = |msg: &str| -> ! {
        eprintln!("{tool}: {msg}");
        exit(1)
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let compiler = lang.compiler();
    let cc = compiler.join(" ");
    let mut kind = Kind::Both;
    let mut dry = false;
    let mut rest = Vec::new();
    let mut print = Vec::new();
    for a in args {
        match a.as_str() {
            "--piproot" => kind = Kind::Root,
            "--piptask" => kind = Kind::Task,
            "--nopip" => kind = Kind::NoPip,
            "--dryrun" => dry = true,
            "--cflags" | "--ccopts" | "--lflags" | "--which" | "--where" => print.push(a),
            "--help" | "-h" => {
                println!("{usage}");
                exit(0);
            }
            // The driver's own version first; the compiler then prints its own.
            "--version" => {
                println!("{tool} (pip-rs) {}", env!("CARGO_PKG_VERSION"));
                rest.push(a);
            }
            "-static" | "--static" => fail("-static is not allowed: a PiP program must be linked dynamically (the root loads tasks with the dynamic loader)"),
            _ => rest.push(a),
        }
    }
    if !print.is_empty() {
        print_and_exit(tool, &cc, kind, &print);
    }
    if rest.is_empty() {
        eprintln!("{tool}: no input files\n{usage}");
        exit(1);
    }
    let mut cmd = Command::new(&compiler[0]);
    cmd.args(&compiler[1..]);
    // Removed (by its drop) once the compiler is done.
    let mut entry_stub: Option<TempFile> = None;
    if kind == Kind::NoPip {
        cmd.args(&rest);
    } else {
        let l = layout().unwrap_or_else(|e| fail(&e));
        // Linking unless the command only compiles, preprocesses or makes assembly.
        let linking = !rest.iter().any(|a| a == "-c" || a == "-E" || a == "-S");
        cmd.args(cflags(&l));
        cmd.args(&rest);
        let shared = linking && rest.iter().any(|a| a == "-shared");
        if shared {
            match direct_run_entry(dry) {
                Ok(Some(stub)) => {
                    cmd.args(["-x", "assembler"])
                        .arg(&stub.0)
                        .args(["-x", "none"]);
                    entry_stub = Some(stub);
                }
                Ok(None) => {}
                Err(e) => fail(&e),
            }
        }
        if linking {
            cmd.args(lflags(&l, kind, shared));
        }
    }
    if dry {
        let shown: Vec<String> = std::iter::once(compiler[0].clone())
            .chain(cmd.get_args().map(|a| a.to_string_lossy().into_owned()))
            .collect();
        println!("{}", shown.join(" "));
        exit(0);
    }
    let status = cmd.status();
    drop(entry_stub);
    match status {
        Ok(st) => exit(st.code().unwrap_or(1)),
        Err(e) => fail(&format!(
            "cannot run the compiler `{cc}` (from ${var}, or {default}): {e}"
        )),
    }
}

/// Prints what the `--cflags`, `--lflags`, `--which` and `--where` options in `print` ask
/// for, in order, and exits.
fn print_and_exit(tool: &str, cc: &str, kind: Kind, print: &[String]) -> ! {
    for p in print {
        if p == "--which" {
            println!("{cc}");
            continue;
        }
        let l = layout().unwrap_or_else(|e| {
            eprintln!("{tool}: {e}");
            exit(1)
        });
        match p.as_str() {
            "--cflags" | "--ccopts" => println!("{}", cflags(&l).join(" ")),
            "--lflags" => println!("{}", lflags(&l, kind, false).join(" ")),
            _ => println!("{}\n{}", l.lib.display(), l.include.display()),
        }
    }
    exit(0)
}

/// A file removed when dropped.
struct TempFile(PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// The assembly file of the entry point that a task linked `-shared` gets, so that running it
/// as a program says how to run it (see `pip_core::direct_run`), or `None` where there is no
/// such entry. Written to a temporary file (not with `dry`: then only its name is shown).
fn direct_run_entry(dry: bool) -> Result<Option<TempFile>, String> {
    #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
    {
        let path = std::env::temp_dir().join(format!("pip-task-entry-{}.s", std::process::id()));
        if !dry {
            // Without the .note.GNU-stack section the linker would ask for an executable
            // stack, which the dynamic loader may refuse.
            let text = format!(
                ".intel_syntax noprefix\n{}\n.section .note.GNU-stack,\"\",@progbits\n",
                pip_core::direct_run::ENTRY_ASM
            );
            std::fs::write(&path, text)
                .map_err(|e| format!("cannot write the task entry stub {}: {e}", path.display()))?;
        }
        Ok(Some(TempFile(path)))
    }
    #[cfg(not(all(target_arch = "x86_64", target_os = "linux")))]
    {
        let _ = dry;
        Ok(None)
    }
}
