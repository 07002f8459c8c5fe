//! What to spawn: [`Spawn`].

use std::ffi::{c_void, OsStr, OsString};
use std::path::{Path, PathBuf};

/// A hook run on the new task's thread: before the entry (a non-zero result aborts the task
/// with that exit code) or after it ends (a non-zero result replaces an exit code of 0).
pub type Hook = Box<dyn FnOnce() -> i32 + Send + 'static>;

/// Everything about one task to spawn: the program and its entry, arguments, environment,
/// working directory, CPU core, stack size, hooks and aux pointer.
///
/// ```
/// use pip_core::Spawn;
/// let s = Spawn::program("./libhello.so").arg("--verbose").env("RUST_LOG", "info").core(1);
/// assert_eq!(s.get_program(), std::path::Path::new("./libhello.so"));
/// ```
pub struct Spawn {
    pub(crate) program: PathBuf,
    pub(crate) function: Option<(String, usize)>,
    pub(crate) args: Vec<OsString>,
    pub(crate) env: Option<Vec<(OsString, OsString)>>,
    pub(crate) cwd: Option<PathBuf>,
    pub(crate) core: Option<usize>,
    pub(crate) stack_size: Option<usize>,
    pub(crate) before: Option<Hook>,
    pub(crate) after: Option<Hook>,
    pub(crate) aux: *mut c_void,
    pub(crate) pipid: Option<usize>,
    pub(crate) private_fds: bool,
}

// SAFETY: the raw pointers (aux, function argument) are opaque values handed to the task; the
// caller of `aux`/`function` vouches for their use on another thread.
unsafe impl Send for Spawn {}

impl std::fmt::Debug for Spawn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Spawn")
            .field("program", &self.program)
            .field("function", &self.function)
            .field("args", &self.args)
            .field("cwd", &self.cwd)
            .field("core", &self.core)
            .field("pipid", &self.pipid)
            .finish_non_exhaustive()
    }
}

impl Spawn {
    /// Runs the program's `main` (a Rust task's [`task_main!`](crate::task_main)).
    pub fn program(path: impl AsRef<Path>) -> Spawn {
        Spawn {
            program: path.as_ref().to_path_buf(),
            function: None,
            args: Vec::new(),
            env: None,
            cwd: None,
            core: None,
            stack_size: None,
            before: None,
            after: None,
            aux: std::ptr::null_mut(),
            pipid: None,
            private_fds: false,
        }
    }

    /// Runs the exported function `name` of the program, as `int name(void *arg)`, instead of
    /// `main`. Its return value is the exit code.
    pub fn function(path: impl AsRef<Path>, name: &str, arg: *mut c_void) -> Spawn {
        let mut s = Spawn::program(path);
        s.function = Some((name.to_string(), arg as usize));
        s
    }

    /// The program's path.
    pub fn get_program(&self) -> &Path {
        &self.program
    }

    /// The symbol the task starts at.
    pub(crate) fn entry_symbol(&self) -> &str {
        self.function
            .as_ref()
            .map(|(n, _)| n.as_str())
            .unwrap_or("main")
    }

    /// Adds an argument (after `argv[0]`, which is the program path). Arguments are bytes, as
    /// on any Unix command line: they need not be UTF-8 (a C task gets them byte for byte, a
    /// Rust task reads them with [`pip_core::args_os`](crate::args_os)). A NUL byte cannot be
    /// passed and is dropped.
    pub fn arg(mut self, a: impl AsRef<OsStr>) -> Spawn {
        self.args.push(a.as_ref().to_os_string());
        self
    }

    /// Adds arguments (see [`arg`](Spawn::arg)).
    pub fn args<I: IntoIterator<Item = S>, S: AsRef<OsStr>>(mut self, args: I) -> Spawn {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_os_string()));
        self
    }

    /// Sets a variable of the task's environment (which starts as a copy of the root's).
    ///
    /// With `namespace` isolation the task's libc `environ` is exactly this environment. With
    /// `shared-libc` isolation the C `environ` is the process's, shared by all tasks; the task's
    /// own environment is passed as `main`'s third argument and read with
    /// [`pip_core::env_var`](crate::env_var) (or [`env_var_os`](crate::env_var_os) for a value
    /// that may not be UTF-8: names and values are bytes, as in any Unix environment).
    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Spawn {
        let (k, v) = (key.as_ref().to_os_string(), value.as_ref().to_os_string());
        let env = self
            .env
            .get_or_insert_with(|| std::env::vars_os().collect());
        env.retain(|(ek, _)| *ek != k);
        env.push((k, v));
        self
    }

    /// Starts the task's environment empty instead of from the root's.
    pub fn env_clear(mut self) -> Spawn {
        self.env = Some(Vec::new());
        self
    }

    /// The task's environment: what was set, or a copy of the root's (bytes, not necessarily
    /// UTF-8).
    pub(crate) fn environment(&self) -> Vec<(OsString, OsString)> {
        match &self.env {
            Some(e) => e.clone(),
            None => std::env::vars_os().collect(),
        }
    }

    /// Runs the task in `dir` (gives the task a private cwd with `unshare(CLONE_FS)`).
    pub fn cwd(mut self, dir: impl AsRef<Path>) -> Spawn {
        self.cwd = Some(dir.as_ref().to_path_buf());
        self
    }

    /// Pins the task to this CPU (absolute CPU number).
    pub fn core(mut self, cpu: usize) -> Spawn {
        self.core = Some(cpu);
        self
    }

    /// The task thread's stack size (default: `PIP_STACKSIZE`, or 8 MiB).
    pub fn stack_size(mut self, bytes: usize) -> Spawn {
        self.stack_size = Some(bytes);
        self
    }

    /// Gives the task a private file descriptor table (`unshare(CLONE_FILES)`): a copy of the
    /// root's at spawn time; what the task opens or closes afterwards is its own.
    pub fn private_fds(mut self, yes: bool) -> Spawn {
        self.private_fds = yes;
        self
    }

    /// A hook run on the task's thread, after its fd table and cwd are set up and before the
    /// entry: the place for `dup2` plumbing. A non-zero result ends the task with that code.
    pub fn before(mut self, hook: impl FnOnce() -> i32 + Send + 'static) -> Spawn {
        self.before = Some(Box::new(hook));
        self
    }

    /// A hook run on the task's thread when the task returns or calls `exit()` (not when a
    /// signal kills it). A non-zero result replaces an exit code of 0.
    pub fn after(mut self, hook: impl FnOnce() -> i32 + Send + 'static) -> Spawn {
        self.after = Some(Box::new(hook));
        self
    }

    /// The task's aux pointer, read in the task with [`pip_core::aux`](crate::aux).
    pub fn aux(mut self, aux: *mut c_void) -> Spawn {
        self.aux = aux;
        self
    }

    /// Spawns into this pipid instead of the next free one.
    pub fn pipid(mut self, pipid: usize) -> Spawn {
        self.pipid = Some(pipid);
        self
    }
}
