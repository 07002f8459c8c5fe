//! `pip-exec`: run an SPMD or MPMD job of PiP tasks. See `pip-exec --help`.
use clap::{CommandFactory, Parser};
use pip_core::{Isolation, Mode, Root};
use pip_tools::cmdline::{binding, binding_report, check_map_by, env_assignment, find_program};
use pip_tools::exec::{allowed_cpus, check_cores, parse_cores, parse_groups, worst_status, Group};
use std::ffi::OsString;
use std::process::ExitCode;
use std::time::Duration;

// Kills wait for the end of a task's malloc or free, so no allocator lock is left held.
pip_core::guard_allocator!();

/// Run programs as PiP tasks in one address space.
///
/// Each `:`-separated group runs N copies of a program (MPMD, as PiP's pip-exec does):
///
///     pip-exec -n 4 ./libhello.so
///     pip-exec -n 1 ./libmaster.so : -n 3 ./libworker.so arg
///
/// Tasks get pipids 0..N-1 in order. The root exports a `pip_core::Barrier` for all N tasks
/// (read it in a task with `pip_core::root_export`).
///
/// Exit code: 0 when every task exits with 0. Otherwise the worst task's: 128+N for the first
/// task killed by signal N, else the largest exit code (a panic counts as 101). Tasks that
/// pip-exec kills because another one failed do not count. When one task fails (non-zero
/// exit, signal, panic), pip-exec says which and how, and ends the others.
///
/// SIGINT/SIGTERM end every task; a second one ends pip-exec at once.
///
/// Environment (a bad value is an error that names the variable; on/off is 1/yes/true/on or
/// 0/no/false/off; sizes take k, m, g suffixes):
///
///     PIP_MODE               thread (or pthread; the default) or process; --mode overrides it
///     PIP_STACKSIZE          each task's stack, e.g. 16m (a plain number is KiB); default 8m
///     PIP_STOP_ON_START      a pipid, or -1 for every task: stop with SIGSTOP when that task
///                            starts, so a debugger can attach
///     PIP_FULL_IMAGE         on/off (off): keep the whole program file in each task's image,
///                            for debuggers and symbolised backtraces
///     PIP_WAIT_BOARD         on/off (on): publish what each task waits for, for `pips waits`
///     PIP_WAIT_SPIN          polls before any waiting thread (barriers, pip-comm) yields
///                            (20000; 0 when oversubscribed); PIP_COMM_SPIN is the older name
///     PIP_WAIT_YIELD         yields before it sleeps (50; 10 when oversubscribed);
///                            PIP_COMM_YIELD is the older name
///
/// Read by tasks that use pip-comm (defaults in parentheses):
///
///     PIP_COMM_EAGER_MAX     largest message sent eagerly (512; at most 1m)
///     PIP_COMM_RING_SLOTS    slots in each sender-to-receiver ring (16; 2 to 4096)
///     PIP_COMM_PAR_COPY_MIN  from this size on, the sender helps copy (64k)
///     PIP_COMM_CHUNK         largest chunk of that shared copy (256k; at least 4k)
///     PIP_COMM_SPIN          as PIP_WAIT_SPIN (which wins when both are set)
///     PIP_COMM_YIELD         as PIP_WAIT_YIELD (which wins when both are set)
///     PIP_COMM_STEAL         on/off (on): a blocked rank helps others with their copies
///     PIP_COMM_WATCHDOG      seconds all ranks may wait without progress before the cycle
///                            of waits is reported (10; 0/off: no watchdog)
///     PIP_COMM_DEADLOCK      report (the default) or abort: what the watchdog does
#[derive(Parser, Debug)]
#[command(name = "pip-exec", version, verbatim_doc_comment)]
struct Cli {
    /// Number of tasks of the first program (`-np N` too, as mpirun spells it).
    #[arg(short = 'n', long = "np", default_value_t = 1)]
    n: usize,
    /// Start the tasks at this exported function (`int f(void *)`) instead of `main`.
    #[arg(short = 'f', value_name = "FUNC")]
    func: Option<String>,
    /// shared-libc (private program image, shared libc; the default) or namespace (private
    /// libc per task, at most 15 tasks).
    #[arg(long, default_value = "shared-libc", value_name = "LEVEL")]
    isolation: Isolation,
    /// thread (a task is a thread; the default) or process (a task is a process of its own in
    /// the shared address space). Default: PIP_MODE, else thread.
    #[arg(long, value_name = "MODE")]
    mode: Option<Mode>,
    /// Give every task a private file descriptor table (a copy of pip-exec's at spawn).
    #[arg(long)]
    private_fds: bool,
    /// Pin task i to CPU LIST[i % len], e.g. `0,1` or `0-3`.
    #[arg(long, value_name = "LIST")]
    cores: Option<String>,
    /// mpirun's binding: `core` pins task i to CPU i (round robin) of `--cores LIST`, else of
    /// the CPUs pip-exec may use; `none` (the default) pins no task.
    #[arg(long, value_enum, value_name = "core|none")]
    bind_to: Option<pip_tools::cmdline::BindTo>,
    /// Print the CPU each task is pinned to (or that it is not) on stderr as it starts.
    #[arg(long)]
    report_bindings: bool,
    /// Set VAR=VAL in the tasks' environment; `-x VAR` alone passes pip-exec's own value of
    /// VAR (as mpirun does; tasks see the whole environment of pip-exec anyway). May be
    /// repeated. pip-exec sets the variable in its own environment before anything starts, so
    /// it also counts for the PIP_* settings it reads.
    #[arg(short = 'x', value_name = "VAR[=VAL]", value_parser = clap::value_parser!(OsString))]
    export: Vec<OsString>,
    /// Accepted as mpirun's option, and changes nothing: PiP tasks may always outnumber the CPUs
    /// (they share them as any threads or processes do).
    #[arg(long)]
    oversubscribe: bool,
    /// Accepted for `core` and `slot` only (task i goes to CPU i of the binding list); other
    /// mappings are refused: a job runs on one node.
    #[arg(long, value_name = "POLICY")]
    map_by: Option<String>,
    /// The program, its arguments, and further `: -n M prog2 args...` groups. Programs and
    /// arguments are passed to the tasks byte for byte (they need not be UTF-8). A program
    /// name without `/` is looked up on PATH and then, as Open MPI's mpirun does, in the
    /// current directory; `./prog.so` or any path with a `/` is used as given. An option
    /// before the program that pip-exec does not know is an error (put `--` before a program
    /// whose name starts with `-`).
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        required = true,
        value_name = "PROG ARGS",
        value_parser = clap::value_parser!(OsString)
    )]
    rest: Vec<OsString>,
}

fn fail(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("pip-exec: {msg}");
    ExitCode::from(1)
}

fn main() -> ExitCode {
    pip_tools::generate::generate_if_asked(Cli::command);
    let args = match pip_tools::cmdline::mpirun_spellings(
        &Cli::command(),
        std::env::args_os().collect(),
    ) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("pip-exec: {e}");
            return ExitCode::from(2);
        }
    };
    let cli = Cli::parse_from(args);
    if let Some(launch) = pip_core::launcher::several_processes() {
        // Each copy would run a world of its own, unaware of the others: say so and stop.
        return fail(format_args!(
            "{launch}: a pip-rs job runs on one node, in one pip-exec, and this pip-exec would \
             make a separate world in each of the {} processes, with no messages between them \
             (a world across nodes is not available). Run pip-exec once, without the MPI \
             launcher: pip-exec -n N program",
            launch.size
        ));
    }
    let job = match Job::from_cli(&cli) {
        Ok(j) => j,
        Err(e) => return fail(e),
    };
    pip_tools::set_root_thread_name();
    // Processes that tasks fork stay in pip-exec's tree, to be ended with the job.
    if let Err(e) = pip_tools::reaper::become_subreaper() {
        eprintln!("pip-exec: warning: cannot become a subreaper ({e}); processes that tasks fork and leave running may outlive the job");
    }
    let mut root = match job.start_root(&cli) {
        Ok(r) => r,
        Err(e) => return fail(e),
    };
    if let Err(e) = job.check_programs(&root) {
        return fail(e);
    }
    let programs = match job.spawn_all(&mut root, &cli) {
        Ok(p) => p,
        Err(code) => return code,
    };
    wait_all(root, &programs)
}

/// What the command line asks for, checked before anything starts.
struct Job {
    /// Thread or process mode.
    mode: Mode,
    /// The `:`-separated groups, with their programs found.
    groups: Vec<Group>,
    /// The CPU of each task (task i gets `cores[i % len]`), if tasks are pinned.
    cores: Option<Vec<usize>>,
    /// The CPUs pip-exec may use.
    allowed: Vec<usize>,
    /// The number of tasks.
    total: usize,
}

impl Job {
    /// Reads the options (setting `-x` variables first, as they count for the PIP_* settings),
    /// finds the programs and checks the CPU list and the number of tasks.
    fn from_cli(cli: &Cli) -> Result<Job, String> {
        cli.map_by.as_deref().map_or(Ok(()), check_map_by)?;
        for x in &cli.export {
            match env_assignment(x)? {
                // Before the root's init: no other thread reads the environment yet.
                (var, Some(value)) => std::env::set_var(var, value),
                (var, None) if std::env::var_os(&var).is_none() => eprintln!(
                    "pip-exec: warning: -x {}: {0} is not set here, so the tasks do not get it",
                    var.to_string_lossy()
                ),
                _ => {}
            }
        }
        let mode = match cli.mode {
            Some(m) => m,
            None => Mode::from_env().map_err(|e| e.to_string())?,
        };
        let mut groups = parse_groups(cli.n, cli.func.clone(), &cli.rest)?;
        let cwd = std::env::current_dir().unwrap_or_else(|_| ".".into());
        let path = std::env::var_os("PATH");
        for g in &mut groups {
            g.prog = find_program(&g.prog, path.as_deref(), &cwd)?;
        }
        let allowed = allowed_cpus();
        let cores = cli.cores.as_deref().map(parse_cores).transpose()?;
        if let Some(c) = cores.as_deref() {
            check_cores(c, &allowed)?;
        }
        let cores = binding(cores, cli.bind_to, &allowed)?;
        let total: usize = groups.iter().map(|g| g.n).sum();
        if total == 0 || total > pip_core::MAX_TASKS {
            return Err(format!(
                "the job must have between 1 and {} tasks, not {total}",
                pip_core::MAX_TASKS
            ));
        }
        if cli.isolation == Isolation::Namespace {
            // Stock glibc fits 11 namespaces; re-executing with the tunable gives 15.
            pip_core::reexec_with_more_namespaces_if_needed(total).map_err(|e| e.to_string())?;
        }
        Ok(Job {
            mode,
            groups,
            cores,
            allowed,
            total,
        })
    }

    /// The root, with a barrier for all the tasks exported.
    fn start_root(&self, cli: &Cli) -> pip_core::Result<Root> {
        let barrier: &'static pip_core::Barrier =
            Box::leak(Box::new(pip_core::Barrier::new(self.total as u32)));
        Root::builder(self.total)
            .isolation(cli.isolation)
            .mode(self.mode)
            .export(barrier as *const _ as *mut pip_core::Barrier)
            .catch_termination_signals(true)
            .init()
    }

    /// Checks every program before any task starts, with one read of each file: its fact
    /// sheet (pip-core's checks and pip-check's), from the read that its spawns then load.
    fn check_programs(&self, root: &Root) -> Result<(), String> {
        for g in &self.groups {
            // The error names the file.
            let sheet = root
                .fact_sheet(&g.spawn(None, false))
                .map_err(|e| e.to_string())?;
            if let Err(e) = sheet.task {
                return Err(format!("{}: {e}", g.prog.display()));
            }
        }
        Ok(())
    }

    /// Spawns every task, in pipid order. Returns each task's program, for messages; on a
    /// failure, ends the tasks already started and returns pip-exec's exit code.
    fn spawn_all(&self, root: &mut Root, cli: &Cli) -> Result<Vec<String>, ExitCode> {
        let mut programs = Vec::new();
        for g in &self.groups {
            for _ in 0..g.n {
                let pipid = programs.len();
                let core = self.cores.as_ref().map(|c| c[pipid % c.len()]);
                programs.push(g.prog.display().to_string());
                if cli.report_bindings {
                    eprintln!(
                        "{}",
                        binding_report(pipid, &programs[pipid], core, &self.allowed)
                    );
                }
                if let Err(e) = root.spawn(g.spawn(core, cli.private_fds)) {
                    eprintln!(
                        "pip-exec: cannot spawn task {pipid} ({}): {e}",
                        g.prog.display()
                    );
                    root.kill_all();
                    drain(root);
                    end_the_tree();
                    return Err(ExitCode::from(1));
                }
            }
        }
        Ok(programs)
    }
}

/// Waits for every task; when one fails (or a termination signal comes), ends the others.
/// Returns pip-exec's exit code (see `--help`).
fn wait_all(mut root: Root, programs: &[String]) -> ExitCode {
    let mut ended_on_their_own = Vec::new();
    let mut killing = false;
    let mut interrupted = None;
    // A task ended by a signal may have died holding a libc lock (a stdio stream's, say), which
    // the normal exit path would then wait for forever.
    let mut signaled = false;
    loop {
        let next = if killing {
            root.wait_any_timeout(Duration::from_secs(10))
        } else {
            root.wait_any()
        };
        match next {
            Ok((p, status)) => {
                signaled |= status.signal().is_some();
                if killing && status == pip_core::ExitStatus::Signaled(libc::SIGKILL) {
                    continue; // Ended by us.
                }
                ended_on_their_own.push(status);
                if !status.success() && !killing {
                    eprintln!(
                        "pip-exec: task {p} ({}) {status}; ending the job",
                        programs[p]
                    );
                    root.kill_all();
                    killing = true;
                }
            }
            Err(pip_core::Error::NoTasks) => break,
            Err(pip_core::Error::Interrupted(sig)) => {
                eprintln!("pip-exec: {}: ending all tasks", pip_core::signal_name(sig));
                interrupted = Some(sig);
                root.kill_all();
                killing = true;
            }
            Err(pip_core::Error::TimedOut) => {
                eprintln!("pip-exec: some tasks did not end within 10 s of being killed (they block the kill signal?); exiting anyway");
                quick_exit(exit_code(interrupted, &ended_on_their_own));
            }
            Err(e) => return fail(e),
        }
    }
    let _ = root.fin();
    let code = exit_code(interrupted, &ended_on_their_own);
    if signaled {
        quick_exit(code);
    }
    end_the_tree();
    ExitCode::from(code)
}

/// Ends the processes that tasks forked and left running (see `pip_tools::reaper`), once the
/// tasks have ended.
fn end_the_tree() {
    let n = pip_tools::reaper::end_descendants(Duration::from_secs(2));
    if n > 0 {
        let s = if n == 1 { "" } else { "es" };
        eprintln!("pip-exec: ended {n} process{s} that the tasks had started and left running");
    }
}

/// Ends pip-exec without the exit handlers and stdio flushing of a normal exit, which could
/// wait forever for a lock held by a task that a signal killed. Tasks that ended normally
/// have flushed their output already.
fn quick_exit(code: u8) -> ! {
    use std::io::Write;
    end_the_tree();
    let _ = std::io::stderr().flush();
    // SAFETY: _exit ends the process at once; nothing of ours needs cleaning up.
    unsafe { libc::_exit(code.into()) }
}

fn exit_code(interrupted: Option<i32>, statuses: &[pip_core::ExitStatus]) -> u8 {
    match interrupted {
        Some(sig) => (128 + sig) as u8,
        None => worst_status(statuses) as u8,
    }
}

/// Waits (a bounded time) for every spawned task after a failure.
fn drain(root: &mut Root) {
    while root.wait_any_timeout(Duration::from_secs(10)).is_ok() {}
}
