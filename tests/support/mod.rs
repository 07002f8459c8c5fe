//! Helpers for the tests of C tasks and of the command-line tools: compiling C programs at test
//! time, running the tools with a time limit, and finding the tool binaries.
#![allow(dead_code)]

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A generous limit that only stops a hung job; no test relies on timing.
pub const HANG_LIMIT: Duration = Duration::from_secs(60);

/// A tool binary of pip-tools (`pip-exec`, `pip-check`, `pip-mode`) next to the test's build.
pub fn tool(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    // target/<profile>/deps/<test>-<hash>
    let p = exe.parent().unwrap().parent().unwrap().join(name);
    assert!(
        p.exists(),
        "{} is missing: build the tools first (`cargo build --workspace --examples --bins`)",
        p.display()
    );
    p
}

/// A fresh scratch directory for one test, removed when dropped.
pub struct Scratch(pub PathBuf);

impl Scratch {
    /// Creates `<tmp>/pip-rs-<tag>-<pid>-<n>`.
    pub fn new(tag: &str) -> Scratch {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "pip-rs-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    /// A path inside the directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A directory for files built once per test process (such as compiled C programs, which a
/// static keeps for the whole run), under the build's target directory. Directories that
/// earlier test processes left there are removed once those processes are gone.
pub fn build_dir(tag: &str) -> PathBuf {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    // Tests run on several threads and may ask for the same tag at once: the directory is made
    // (and its leftovers removed) once per tag and process, never under another test's feet.
    static DIRS: OnceLock<Mutex<HashMap<String, PathBuf>>> = OnceLock::new();
    let mut dirs = DIRS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some(dir) = dirs.get(tag) {
        return dir.clone();
    }
    let exe = std::env::current_exe().unwrap();
    let base = exe
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("pip-rs-test-files");
    std::fs::create_dir_all(&base).unwrap();
    for entry in std::fs::read_dir(&base).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let pid = name.rsplit('-').next().and_then(|p| p.parse::<u32>().ok());
        if pid.is_some_and(|pid| !Path::new(&format!("/proc/{pid}")).exists()) {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
    let dir = base.join(format!("{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dirs.insert(tag.to_string(), dir.clone());
    dir
}

/// Compiles the C program `src` with `cc FLAGS -o DIR/NAME`, and returns the output's path.
/// Panics, with the compiler's messages, if the compiler is missing or fails.
pub fn cc(dir: &Path, name: &str, src: &str, flags: &[&str]) -> PathBuf {
    let c = dir.join(format!("{name}.c"));
    std::fs::write(&c, src).unwrap();
    let out = dir.join(name);
    let result = Command::new("cc")
        .args(flags)
        .arg("-o")
        .arg(&out)
        .arg(&c)
        .output()
        .unwrap_or_else(|e| panic!("cannot run the C compiler `cc` (install gcc or clang): {e}"));
    assert!(
        result.status.success(),
        "cc {flags:?} {name}.c failed:\n{}",
        String::from_utf8_lossy(&result.stderr)
    );
    out
}

/// What a finished command gave.
#[derive(Debug)]
pub struct Output {
    /// The exit code, if it exited.
    pub code: Option<i32>,
    /// The signal that ended it, if any.
    pub signal: Option<i32>,
    /// Its standard output.
    pub stdout: String,
    /// Its standard error.
    pub stderr: String,
}

impl Output {
    /// Both streams, for assertion messages.
    pub fn both(&self) -> String {
        format!(
            "exit {:?} signal {:?}\n--- stdout:\n{}--- stderr:\n{}",
            self.code, self.signal, self.stdout, self.stderr
        )
    }
}

/// A started command whose output is being collected.
pub struct Running {
    pub child: std::process::Child,
    readers: Vec<std::thread::JoinHandle<String>>,
    what: String,
}

/// Starts `cmd` with piped stdout and stderr (stdin closed).
pub fn start(cmd: &mut Command) -> Running {
    let what = format!("{cmd:?}");
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
    let mut readers = Vec::new();
    for mut stream in [
        Box::new(child.stdout.take().unwrap()) as Box<dyn Read + Send>,
        Box::new(child.stderr.take().unwrap()),
    ] {
        readers.push(std::thread::spawn(move || {
            let mut s = Vec::new();
            let _ = stream.read_to_end(&mut s);
            String::from_utf8_lossy(&s).into_owned()
        }));
    }
    Running {
        child,
        readers,
        what,
    }
}

impl Running {
    /// Waits for the command to end (killing it and failing the test after `limit`).
    pub fn finish(mut self, limit: Duration) -> Output {
        use std::os::unix::process::ExitStatusExt;
        let deadline = Instant::now() + limit;
        let status = loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                break st;
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                let out: Vec<String> = self
                    .readers
                    .into_iter()
                    .map(|r| r.join().unwrap())
                    .collect();
                panic!(
                    "{} did not end within {limit:?} (killed)\n--- stdout:\n{}--- stderr:\n{}",
                    self.what, out[0], out[1]
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        let mut out: Vec<String> = self
            .readers
            .into_iter()
            .map(|r| r.join().unwrap())
            .collect();
        let stderr = out.pop().unwrap();
        let stdout = out.pop().unwrap();
        Output {
            code: status.code(),
            signal: status.signal(),
            stdout,
            stderr,
        }
    }

    /// The process id.
    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// Waits until the process has `n` threads whose name ends with `|<suffix>` (PiP's task
    /// thread names, `<digit>|<program>`), i.e. until `n` tasks run. Fails the test after
    /// [`HANG_LIMIT`].
    pub fn wait_for_task_threads(&mut self, suffix: &str, n: usize) {
        let deadline = Instant::now() + HANG_LIMIT;
        let want = format!("|{suffix}");
        loop {
            let count = task_thread_names(self.pid())
                .iter()
                .filter(|name| name.ends_with(&want))
                .count();
            if count >= n {
                return;
            }
            if let Some(st) = self.child.try_wait().unwrap() {
                panic!("{} ended ({st}) before {n} tasks ran", self.what);
            }
            assert!(
                Instant::now() < deadline,
                "{} did not start {n} tasks",
                self.what
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// The names (`comm`) of every thread of process `pid`.
pub fn task_thread_names(pid: i32) -> Vec<String> {
    let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    dir.filter_map(|e| {
        let p = e.ok()?.path().join("comm");
        Some(std::fs::read_to_string(p).ok()?.trim_end().to_string())
    })
    .collect()
}

/// Runs `cmd` to the end (at most [`HANG_LIMIT`]) and returns its output.
pub fn run(cmd: &mut Command) -> Output {
    start(cmd).finish(HANG_LIMIT)
}

/// Runs a tool with arguments.
pub fn run_tool<I, S>(name: &str, args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    run(Command::new(tool(name)).args(args))
}
