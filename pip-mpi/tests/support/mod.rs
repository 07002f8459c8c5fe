//! Helpers of the MPI tests: building the C test programs (tests/c/) with pip-rs's mpicc or
//! another MPI's, running them under pip-exec (or that MPI's mpirun) with a limit that only
//! stops a hung job, and checking their verdict (`PASS name rank R` from every rank, exit code 0).
#![allow(dead_code)]

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// A generous limit that only stops a hung job; no test relies on timing.
pub const HANG_LIMIT: Duration = Duration::from_secs(120);

/// The rank counts every conformance program runs with.
pub const RANKS: [usize; 5] = [1, 2, 3, 4, 7];

/// The execution modes of pip-exec.
pub const MODES: [Mode; 2] = [Mode::Thread, Mode::Process];

/// A pip-core execution mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Tasks are threads (the default).
    Thread,
    /// Tasks are processes sharing the address space.
    Process,
}

/// An MPI implementation the test programs are built with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Library {
    /// pip-rs's own (mpicc of this build, pip-exec).
    PipRs,
    /// Debian's MPICH (`mpicc.mpich`, `mpirun.mpich`).
    Mpich,
    /// Debian's Open MPI (`mpicc.openmpi`, `mpirun.openmpi`).
    OpenMpi,
}

impl Library {
    fn name(self) -> &'static str {
        match self {
            Library::PipRs => "pip-rs",
            Library::Mpich => "mpich",
            Library::OpenMpi => "openmpi",
        }
    }

    /// The compiler driver.
    fn mpicc(self) -> PathBuf {
        match self {
            Library::PipRs => tool("mpicc"),
            Library::Mpich => PathBuf::from("mpicc.mpich"),
            Library::OpenMpi => PathBuf::from("mpicc.openmpi"),
        }
    }

    /// True if this MPI is installed. A reference MPI that is missing skips its tests with a
    /// message, unless `PIP_MPI_REQUIRE_REFERENCE=1` (as CI sets), which makes it a failure.
    pub fn available(self) -> bool {
        if self == Library::PipRs {
            return true;
        }
        let found = Command::new(self.mpicc())
            .arg("-show")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !found {
            let required = std::env::var("PIP_MPI_REQUIRE_REFERENCE").is_ok_and(|v| v == "1");
            assert!(
                !required,
                "{} is not installed (apt-get install mpich libmpich-dev openmpi-bin libopenmpi-dev) and PIP_MPI_REQUIRE_REFERENCE=1",
                self.mpicc().display()
            );
            eprintln!(
                "note: {} is not installed: the {} run is skipped",
                self.mpicc().display(),
                self.name()
            );
        }
        found
    }
}

/// `target/<profile>/`: where cargo puts the tools and libraries of this build.
pub fn target_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_mpicc"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// A tool of this build (`mpicc`, `pip-exec`, `pip-check`, ...).
pub fn tool(name: &str) -> PathBuf {
    let p = target_dir().join(name);
    assert!(
        p.exists(),
        "{} is missing: build the workspace first (`cargo build --workspace --lib --bins`, as scripts/test does)",
        p.display()
    );
    p
}

/// The directory of the C test programs' sources.
pub fn c_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/c")
}

/// A directory for this test process's programs; those of earlier test processes that are
/// gone are removed.
pub fn build_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let base = target_dir().join("pip-mpi-test-files");
        std::fs::create_dir_all(&base).unwrap();
        for entry in std::fs::read_dir(&base).unwrap().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Ok(pid) = name.parse::<u32>() {
                if !Path::new(&format!("/proc/{pid}")).exists() {
                    let _ = std::fs::remove_dir_all(entry.path());
                }
            }
        }
        let dir = base.join(std::process::id().to_string());
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    })
}

/// Compiles `tests/c/<name>.c` with `mpi`'s mpicc (once per test process) and returns the
/// program's path.
pub fn build(name: &str, mpi: Library) -> PathBuf {
    static LOCK: Mutex<()> = Mutex::new(());
    let _g = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let out = build_dir().join(format!("{name}.{}", mpi.name()));
    if out.exists() {
        return out;
    }
    let src = c_dir().join(format!("{name}.c"));
    let r = Command::new(mpi.mpicc())
        .args(["-Wall", "-O1", "-g"])
        .arg(format!("-I{}", c_dir().display()))
        .arg("-o")
        .arg(&out)
        .arg(&src)
        .arg("-lm")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", mpi.mpicc().display()));
    assert!(
        r.status.success(),
        "{} {name}.c failed:\n{}{}",
        mpi.mpicc().display(),
        String::from_utf8_lossy(&r.stdout),
        String::from_utf8_lossy(&r.stderr)
    );
    out
}

/// What a finished job gave.
#[derive(Debug)]
pub struct Output {
    /// The exit code, if it exited.
    pub code: Option<i32>,
    /// The signal that ended it, if one did.
    pub signal: Option<i32>,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Output {
    /// Everything, for assertion messages.
    pub fn all(&self) -> String {
        format!(
            "exit {:?} signal {:?}\n--- stdout:\n{}--- stderr:\n{}",
            self.code, self.signal, self.stdout, self.stderr
        )
    }

    /// Asserts exit code 0 and `PASS name rank R` on standard output from each of `n` ranks.
    pub fn assert_pass(&self, name: &str, n: usize, what: &str) {
        let passed = (0..n)
            .filter(|r| self.stdout.contains(&format!("PASS {name} rank {r}\n")))
            .count();
        assert!(
            self.code == Some(0) && passed == n,
            "{what}: expected exit 0 and `PASS {name} rank R` from all {n} ranks ({passed} did):\n{}",
            self.all()
        );
    }
}

/// The command that runs `prog` with `n` ranks under `mpi` (pip-rs: pip-exec in `mode`).
pub fn launcher(mpi: Library, n: usize, mode: Mode) -> Command {
    match mpi {
        Library::PipRs => {
            let mut c = Command::new(tool("pip-exec"));
            c.arg("-n").arg(n.to_string());
            if mode == Mode::Process {
                c.args(["--mode", "process"]);
            }
            c
        }
        Library::Mpich => {
            let mut c = Command::new("mpirun.mpich");
            c.arg("-n").arg(n.to_string());
            c
        }
        Library::OpenMpi => {
            let mut c = Command::new("mpirun.openmpi");
            c.args(["--oversubscribe", "--bind-to", "none", "-n"])
                .arg(n.to_string());
            // Open MPI refuses to run as root unless told to.
            c.env("OMPI_ALLOW_RUN_AS_ROOT", "1")
                .env("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
                // No network interfaces are needed on one machine.
                .env("OMPI_MCA_btl", "self,vader")
                .env("OMPI_MCA_pml", "ob1");
            c
        }
    }
}

/// Runs `prog args` with `n` ranks under `mpi` in `mode`.
pub fn run(mpi: Library, prog: &Path, n: usize, mode: Mode, args: &[&str]) -> Output {
    let mut c = launcher(mpi, n, mode);
    c.arg(prog).args(args);
    // No job of the tests may wait long for a deadlock report.
    c.env("PIP_COMM_WATCHDOG", "30");
    run_command(&mut c)
}

/// Builds `tests/c/<name>.c` with pip-rs and runs it with every rank count of [`RANKS`] in
/// both modes, expecting every rank to pass each time.
pub fn conformance(name: &str) {
    let prog = build(name, Library::PipRs);
    for mode in MODES {
        for n in RANKS {
            run(Library::PipRs, &prog, n, mode, &[]).assert_pass(
                name,
                n,
                &format!("pip-rs, {n} ranks, {mode:?} mode"),
            );
        }
    }
}

/// Builds `tests/c/<name>.c` with a reference MPI and runs it with `ranks`, expecting
/// every rank to pass (skipped with a note when that MPI is not installed).
pub fn reference(name: &str, mpi: Library, ranks: &[usize]) {
    if !mpi.available() {
        return;
    }
    let prog = build(name, mpi);
    for &n in ranks {
        run(mpi, &prog, n, Mode::Thread, &[]).assert_pass(name, n, &format!("{mpi:?}, {n} ranks"));
    }
}

/// Runs `cmd` (stdin closed) to its end; kills it and fails the test after [`HANG_LIMIT`].
pub fn run_command(cmd: &mut Command) -> Output {
    use std::os::unix::process::ExitStatusExt;
    let what = format!("{cmd:?}");
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
    let readers: Vec<_> = [
        Box::new(child.stdout.take().unwrap()) as Box<dyn Read + Send>,
        Box::new(child.stderr.take().unwrap()),
    ]
    .into_iter()
    .map(|mut s| {
        std::thread::spawn(move || {
            let mut v = Vec::new();
            let _ = s.read_to_end(&mut v);
            String::from_utf8_lossy(&v).into_owned()
        })
    })
    .collect();
    let deadline = Instant::now() + HANG_LIMIT;
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            let out: Vec<String> = readers.into_iter().map(|r| r.join().unwrap()).collect();
            panic!(
                "{what} did not end within {HANG_LIMIT:?} (killed)\n--- stdout:\n{}--- stderr:\n{}",
                out[0], out[1]
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let mut out: Vec<String> = readers.into_iter().map(|r| r.join().unwrap()).collect();
    let stderr = out.pop().unwrap();
    let stdout = out.pop().unwrap();
    Output {
        code: status.code(),
        signal: status.signal(),
        stdout,
        stderr,
    }
}
