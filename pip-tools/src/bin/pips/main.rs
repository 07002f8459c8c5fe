//! `pips`: list PiP jobs and tasks, signal them, and draw what they hold. See `pips --help`.
// The help text below is shown verbatim by clap; its indented examples are shell, not Rust.
#![allow(rustdoc::invalid_rust_codeblocks)]
mod args;
mod kill;
mod list;
mod views;

use args::{FdsArgs, Hide, ListArgs, Select, ViewArgs};
use clap::{CommandFactory, Parser, Subcommand};
use kill::kill;
use list::list;
use pip_tools::pips::waits;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::time::Duration;
use views::{fds_cmd, serve_cmd, signals_cmd, waits_cmd};

/// List PiP jobs and tasks (like ps), signal them, and show their fd tables and signals.
///
///     pips                          every job and task of yours
///     pips -r 1234 --json           job 1234 as JSON
///     pips hello                    jobs or tasks whose program contains "hello"
///     pips -k -r 1234               SIGTERM to every task of job 1234 (PiP's pips -k)
///     pips x -s KILL -d 1234        SIGKILL to every job started under process 1234 (its
///                                   tasks, then its root), as PiP's test timer does
///     pips kill -s KILL 1234:2      end task 2 of job 1234 (SIGKILL becomes pip-core's
///                                   per-task kill signal: only that task ends)
///     pips fds -r 1234 --svg > d.svg
///     pips signals --watch
///     pips waits -r 1234            who waits for whom; deadlocks named (exit code 3)
///     pips serve -r 1234            a live dashboard on http://127.0.0.1:PORT/
///
/// Columns: ROOT (the job: its root's pid), PIPID (R = root, `12?` = guessed from the thread
/// name's last digit, `3>` = a process forked by task 3), TID, MODE (thread, or process for a
/// process-mode task or a forked process), ISOLATION (shared-libc or namespace), FDS (shared with the root or
/// private), S (state), %CPU, TIME, PSR (CPU last run on), PROGRAM.
///
/// PiP's forms: a first argument of only a, u and x (`pips x`, `pips aux`, as ps takes them) is
/// accepted (a: every user's jobs; u and x change nothing); a lone `-` ends the options; a
/// PATTERN that is a number also matches a process or thread id; -f (--family) takes the
/// whole job of whatever matches; -d (--descendants) the jobs whose root is a PATTERN process
/// or one of its descendants; -v (--verbose) says what is signalled before signalling it. With
/// -f or -d, -k and -s signal the roots too, after their tasks, as PiP's pips does.
///
/// Exit code: 0; 1 when something asked for could not be done (the message says why: job
/// gone, no such task, permission); 2 on a usage error.
#[derive(Parser, Debug)]
#[command(
    name = "pips",
    version,
    verbatim_doc_comment,
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    cmd: Option<Cmd>,
    #[command(flatten)]
    list: ListArgs,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Send a signal to one task, a job's tasks, or all tasks.
    ///
    /// TARGET: `PID` (every task of job PID), `PID:PIPID` (one task), `PID:root` (the root
    /// process itself: a fatal signal ends the whole job), `tid:TID`, or `all`. Each task gets
    /// the signal alone (tgkill); SIGKILL, which cannot be aimed at one thread, becomes
    /// pip-core's per-task kill signal (SIGRTMAX-3), which ends only that task.
    Kill {
        /// The signal (name or number).
        #[arg(
            short = 's',
            long = "signal",
            default_value = "TERM",
            value_name = "SIG"
        )]
        signal: String,
        /// What to signal.
        #[arg(required = true, value_name = "TARGET")]
        targets: Vec<String>,
    },
    /// Fd tables -> open file descriptions -> vnodes of a job's tasks and forked processes.
    Fds(FdsArgs),
    /// Blocked, pending, ignored and caught signals of every task.
    Signals(ViewArgs),
    /// Who waits for whom: pip-comm receives, sends, barriers and collectives, pip-core
    /// imports and barriers (from the job's wait board), threads blocked on mutexes and pipes
    /// (from procfs); deadlocks are named with the cycle of waits that forms them. A cycle is
    /// a deadlock only when a second snapshot, --settle ms later, shows the same waits with no
    /// progress. Programs that run pip-comm ranks as threads (`pip_comm::run`) show too.
    ///
    /// Exit code: 0; 3 when a deadlock (or a wait for a task that has ended) was found, so a
    /// script can test for it; 1 when the job cannot be read.
    Waits {
        #[command(flatten)]
        view: ViewArgs,
        /// Milliseconds between the two snapshots that must both show a cycle of waits,
        /// unchanged and with no progress, before it is reported as a deadlock.
        #[arg(long, value_name = "MS", default_value_t = waits::DEFAULT_SETTLE.as_millis() as u64)]
        settle: u64,
    },
    /// Serve a live dashboard of one job on http://127.0.0.1:PORT/ (refreshed every second): its
    /// tasks, who waits for whom (deadlocks named), signals and the fd diagram. When the job
    /// ends, the page keeps its last snapshot, greyed.
    Serve {
        #[command(flatten)]
        select: Select,
        /// Port (0: any free port; the URL is printed).
        #[arg(long, default_value_t = 0)]
        port: u16,
        #[command(flatten)]
        hide: Hide,
    },
}

pub(crate) fn fail(e: impl std::fmt::Display) -> ExitCode {
    eprintln!("pips: {e}");
    ExitCode::from(1)
}

/// Prints `render()` every `secs` seconds, in place, until interrupted; or once.
pub(crate) fn output(watch: Option<f64>, mut render: impl FnMut() -> String) -> ExitCode {
    let Some(secs) = watch else {
        print!("{}", render());
        return ExitCode::SUCCESS;
    };
    let secs = if secs.is_finite() && secs > 0.0 {
        secs
    } else {
        1.0
    };
    let tty = std::io::stdout().is_terminal();
    loop {
        let text = render();
        let mut out = std::io::stdout().lock();
        if tty {
            // Home, draw, clear what is left of the previous frame.
            let _ = write!(out, "\x1b[H{}\x1b[J", text.replace('\n', "\x1b[K\n"));
        } else {
            let _ = writeln!(out, "{text}");
        }
        if out.flush().is_err() {
            return ExitCode::SUCCESS; // The reader went away.
        }
        drop(out);
        std::thread::sleep(Duration::from_secs_f64(secs));
    }
}

/// PiP's `pips` takes ps-style letters first (`pips x -k ...`, `pips aux`) and a lone `-`
/// before patterns; turns them into this parser's terms (`a` means every user's jobs).
fn pip_style_args(args: Vec<std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    let mut out = Vec::with_capacity(args.len());
    for (i, a) in args.into_iter().enumerate() {
        let text = a.to_str().unwrap_or("");
        if i == 1 && !text.is_empty() && text.chars().all(|c| matches!(c, 'a' | 'u' | 'x')) {
            if text.contains('a') {
                out.push("--all-users".into());
            }
            continue;
        }
        if i > 0 && text == "-" {
            continue;
        }
        out.push(a);
    }
    out
}

fn main() -> ExitCode {
    pip_tools::default_sigpipe();
    pip_tools::generate::generate_if_asked(Cli::command);
    let cli = Cli::parse_from(pip_style_args(std::env::args_os().collect()));
    match cli.cmd {
        None => list(cli.list),
        Some(Cmd::Kill { signal, targets }) => kill(&signal, &targets),
        Some(Cmd::Fds(a)) => fds_cmd(a),
        Some(Cmd::Signals(v)) => signals_cmd(v.select, v.json, v.watch),
        Some(Cmd::Waits { view: v, settle }) => waits_cmd(
            v.select,
            v.json,
            v.watch,
            std::time::Duration::from_millis(settle),
        ),
        Some(Cmd::Serve { select, port, hide }) => serve_cmd(select, port, hide),
    }
}
