//! Helpers of the C API tests: building C programs with pipcc, running them with a limit that
//! only stops a hung job, and finding the tools next to the test's build.
#![allow(dead_code)]

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// A generous limit that only stops a hung program; no test relies on timing.
pub const HANG_LIMIT: Duration = Duration::from_secs(120);

/// The pipcc binary of this build (cargo builds it for the package's integration tests).
pub fn pipcc() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_pipcc"))
}

/// `target/<profile>/`: where cargo puts pipcc, libpip.so and the other tools.
pub fn target_dir() -> PathBuf {
    pipcc().parent().unwrap().to_path_buf()
}

/// `libpip.so` of this build.
pub fn libpip() -> PathBuf {
    let p = target_dir().join("libpip.so");
    assert!(
        p.exists(),
        "{} is missing: build it with `cargo build -p pip-capi` (scripts/test does)",
        p.display()
    );
    p
}

/// A tool of pip-tools (`pip-exec`, `pip-check`) next to this build.
pub fn tool(name: &str) -> PathBuf {
    let p = target_dir().join(name);
    assert!(
        p.exists(),
        "{} is missing: build the tools first (`cargo build --workspace --bins`, as scripts/test does)",
        p.display()
    );
    p
}

/// The directory of the C test programs' sources.
pub fn c_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/c")
}

/// A directory for this test process's programs, under the target directory; directories of
/// earlier test processes that are gone are removed.
pub fn build_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let base = target_dir().join("pip-capi-test-files");
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

/// Compiles `tests/c/<name>.c` with `pipcc FLAGS` into the build directory (once per test
/// process and output name) and returns the program's path.
pub fn build(name: &str, flags: &[&str]) -> PathBuf {
    build_as(name, name, flags)
}

/// Like [`build`], with another output name (for the same source built another way).
pub fn build_as(source: &str, out_name: &str, flags: &[&str]) -> PathBuf {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _g = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let out = build_dir().join(out_name);
    if out.exists() {
        return out;
    }
    let src = c_dir().join(format!("{source}.c"));
    let r = Command::new(pipcc())
        .args(flags)
        .arg("-Wall")
        .arg(format!("-I{}", c_dir().display()))
        .arg("-o")
        .arg(&out)
        .arg(&src)
        .output()
        .expect("cannot run pipcc");
    assert!(
        r.status.success(),
        "pipcc {flags:?} {source}.c failed:\n{}{}",
        String::from_utf8_lossy(&r.stdout),
        String::from_utf8_lossy(&r.stderr)
    );
    out
}

/// What a finished program gave.
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

    /// Asserts that the program exited with 0 and printed `ok_line`.
    pub fn assert_ok(&self, ok_line: &str) {
        assert!(
            self.code == Some(0) && self.stdout.contains(ok_line),
            "expected exit 0 and `{ok_line}`:\n{}",
            self.all()
        );
    }
}

/// Runs `cmd` (stdin closed) to its end; kills it and fails the test after [`HANG_LIMIT`].
pub fn run(cmd: &mut Command) -> Output {
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
            let threads = describe_threads(child.id());
            let _ = child.kill();
            let _ = child.wait();
            let out: Vec<String> = readers.into_iter().map(|r| r.join().unwrap()).collect();
            panic!(
                "{what} did not end within {HANG_LIMIT:?} (killed)\n--- its threads and child processes:\n{threads}--- stdout:\n{}--- stderr:\n{}",
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

/// What each thread of process `pid`, and of the processes whose parent it is, is doing (name,
/// state, kernel wait channel): the diagnosis of a hang.
fn describe_threads(pid: u32) -> String {
    let mut pids = vec![pid];
    if let Ok(dir) = std::fs::read_dir("/proc") {
        for e in dir.flatten() {
            let Ok(p) = e.file_name().to_string_lossy().parse::<u32>() else {
                continue;
            };
            let stat = std::fs::read_to_string(format!("/proc/{p}/stat")).unwrap_or_default();
            let ppid = stat
                .rsplit(')')
                .next()
                .and_then(|rest| rest.split_whitespace().nth(1))
                .and_then(|v| v.parse::<u32>().ok());
            if ppid == Some(pid) {
                pids.push(p);
            }
        }
    }
    let mut out = String::new();
    for p in pids {
        let Ok(tasks) = std::fs::read_dir(format!("/proc/{p}/task")) else {
            continue;
        };
        for t in tasks.flatten() {
            let dir = t.path();
            let read = |f: &str| std::fs::read_to_string(dir.join(f)).unwrap_or_default();
            let stat = read("stat");
            let state = stat
                .rsplit(')')
                .next()
                .and_then(|r| r.split_whitespace().next())
                .unwrap_or("?")
                .to_string();
            out.push_str(&format!(
                "pid {p} tid {} {:<16} state {state} wchan {}\n",
                t.file_name().to_string_lossy(),
                read("comm").trim_end(),
                read("wchan")
            ));
        }
    }
    out
}

/// Runs a program built by [`build`] with arguments and extra environment variables, in the
/// build directory.
pub fn run_program(program: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(program);
    cmd.args(args).current_dir(build_dir());
    for (k, v) in env {
        cmd.env(k, v);
    }
    // The tests choose the isolation level themselves.
    if !env.iter().any(|(k, _)| *k == "PIP_ISOLATION") {
        cmd.env_remove("PIP_ISOLATION");
    }
    if !env.iter().any(|(k, _)| *k == "PIP_MODE") {
        cmd.env_remove("PIP_MODE");
    }
    run(&mut cmd)
}
