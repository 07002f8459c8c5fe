//! The driver behind `mpicc` (C) and `mpicxx` (C++): pipcc with MPI added.
//!
//! ```text
//! mpicc [-show] [pipcc and compiler options] FILES...
//! ```
//!
//! The program is built as pipcc builds it (a PIE that is both a PiP root and a PiP task, with
//! libpip.so), plus pip-rs's `mpi.h` on the include path and `libmpi.so` linked (with an rpath,
//! and kept as a dependency even under `--as-needed`). `mpicxx` compiles with `$CXX` (default
//! `c++`) instead of `$CC`. `-show` (MPICH's) or `-showme` (Open MPI's) prints the compiler
//! command instead of running it. pipcc must be next to the driver (the build tree: both are in
//! `target/<profile>/`; an installed tree: `bin/`), and so must libmpi.so (or in `../lib`); the
//! header is in `../include` or in the source tree the driver was built from.

use std::path::{Path, PathBuf};
use std::process::{exit, Command};

/// What the driver compiles.
// Each binary (mpicc, mpicxx) builds this module and constructs only its own language.
#[allow(dead_code)]
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// `mpicc`.
    C,
    /// `mpicxx`.
    Cxx,
}

fn tool(lang: Lang) -> &'static str {
    match lang {
        Lang::C => "mpicc",
        Lang::Cxx => "mpicxx",
    }
}

/// Where the driver found pipcc, libmpi.so and mpi.h.
struct Layout {
    pipcc: PathBuf,
    lib: PathBuf,
    include: PathBuf,
}

fn layout() -> Result<Layout, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find the driver itself: {e}"))?;
    let exe = exe.canonicalize().unwrap_or(exe);
    let dir = exe.parent().unwrap_or(Path::new("/")).to_path_buf();
    let pipcc = dir.join("pipcc");
    if !pipcc.exists() {
        return Err(format!(
            "pipcc is not next to the driver ({}): build it with `cargo build -p pip-capi`",
            dir.display()
        ));
    }
    let lib = [dir.clone(), dir.join("../lib"), dir.join("../lib64")]
        .into_iter()
        .find(|d| d.join("libmpi.so").exists())
        .ok_or_else(|| {
            format!(
                "libmpi.so is neither next to the driver ({}) nor in ../lib: build it with `cargo build -p pip-mpi`",
                dir.display()
            )
        })?;
    let source_include = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("include");
    let include = [dir.join("../include"), source_include]
        .into_iter()
        .find(|d| d.join("mpi.h").exists())
        .ok_or("mpi.h is neither in ../include nor in the driver's source tree")?;
    let clean = |p: PathBuf| p.canonicalize().unwrap_or(p);
    Ok(Layout {
        pipcc,
        lib: clean(lib),
        include: clean(include),
    })
}

const USAGE: &str = "usage: TOOL [-show] [pipcc options] [compiler options] files...
Compiles and links MPI programs with pip-rs's MPI (mpi.h, libmpi.so) as PiP programs: a program
built this way runs as the tasks of `pip-exec -n N prog` (or `mpiexec -n N prog`), or on its own
as a world of one rank. The compiler is pipcc's (for mpicxx: $CXX, default c++).
  -show, -showme   print the compiler command instead of running it
  --help           this text; `pipcc --help` describes pipcc's own options";

/// Runs the driver; never returns.
pub fn run(lang: Lang) -> ! {
    let name = tool(lang);
    let fail = |msg: &str| -> ! {
        eprintln!("{name}: {msg}");
        exit(1)
    };
    let mut show = false;
    let mut rest = Vec::new();
    for a in std::env::args().skip(1) {
        match a.as_str() {
            "-show" | "-showme" | "--showme" => show = true,
            "--help" | "-help" | "-h" => {
                println!("{}", USAGE.replace("TOOL", name));
                exit(0);
            }
            _ => rest.push(a),
        }
    }
    if rest.is_empty() && !show {
        fail(&format!("no input files\n{}", USAGE.replace("TOOL", name)));
    }
    let l = layout().unwrap_or_else(|e| fail(&e));
    let linking = !rest
        .iter()
        .any(|a| a == "-c" || a == "-E" || a == "-S" || a == "-M");
    let mut cmd = Command::new(&l.pipcc);
    if lang == Lang::Cxx {
        let cxx = std::env::var("CXX").unwrap_or_else(|_| "c++".to_string());
        cmd.env("CC", cxx);
    }
    if show {
        cmd.arg("--dryrun");
    }
    cmd.arg(format!("-I{}", l.include.display()));
    cmd.args(&rest);
    if linking {
        cmd.arg(format!("-L{}", l.lib.display()));
        cmd.arg(format!("-Wl,-rpath,{}", l.lib.display()));
        cmd.args([
            "-Wl,--push-state,--no-as-needed",
            "-lmpi",
            "-Wl,--pop-state",
        ]);
    }
    match cmd.status() {
        Ok(st) => exit(st.code().unwrap_or(1)),
        Err(e) => fail(&format!("cannot run {}: {e}", l.pipcc.display())),
    }
}
