//! `pips`: list PiP jobs and tasks, signal them, and draw what they hold. See `pips --help`.
// The help text below is shown verbatim by clap; its indented examples are shell, not Rust.
#![allow(rustdoc::invalid_rust_codeblocks)]
use clap::{Args, CommandFactory, Parser, Subcommand};
use pip_tools::pips::{
    self, fds, jobs, jobs::Filter, jobs::Job, jobs::Target, killed, render, serve, waits, PipsError,
};
use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::time::Duration;

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

/// Which jobs and tasks.
#[derive(Args, Debug, Clone, Default)]
struct Select {
    /// Only job PID (the root's pid); repeatable.
    #[arg(short = 'r', long = "job", visible_alias = "root", value_name = "PID")]
    jobs: Vec<i32>,
    /// Only task PIPID; repeatable.
    #[arg(short = 't', long = "pipid", value_name = "PIPID")]
    pipids: Vec<usize>,
    /// Include other users' jobs (their rows only: their fds and kcmp stay closed to you).
    #[arg(long)]
    all_users: bool,
    /// Only jobs or tasks whose program contains PATTERN.
    #[arg(value_name = "PATTERN")]
    patterns: Vec<String>,
}

impl Select {
    /// The filter by job pid only (for `-f`/`-d`, which take whole jobs).
    fn filter_jobs_only(&self) -> Filter {
        Filter {
            jobs: self.jobs.clone(),
            ..Filter::default()
        }
    }

    fn filter(&self) -> Filter {
        Filter {
            jobs: self.jobs.clone(),
            pipids: self.pipids.clone(),
            programs: self.patterns.clone(),
        }
    }
    /// The matching jobs. Jobs named by pid are looked for among every user's, like `ps -p`
    /// (what may be read of them is then up to the kernel).
    fn jobs(&self) -> Vec<Job> {
        self.filter()
            .apply(jobs::scan(self.all_users || !self.jobs.is_empty()))
    }
}

#[derive(Args, Debug, Default)]
struct ListArgs {
    #[command(flatten)]
    view: ViewArgs,
    /// Send SIGTERM to the tasks listed (PiP's `pips -k`).
    #[arg(short = 'k', long = "kill")]
    kill: bool,
    /// Send signal SIG to the tasks listed (PiP's `pips -s SIG`).
    #[arg(short = 's', long = "signal", value_name = "SIG")]
    signal: Option<String>,
    /// The whole job (root and every task) of each task or root that matches (PiP's `-f`).
    #[arg(short = 'f', long = "family")]
    family: bool,
    /// The jobs whose root is a PATTERN process (by pid) or one of its descendants (PiP's
    /// `-d`): `pips -s KILL -d PID` ends the jobs started under PID.
    #[arg(
        short = 'd',
        long = "descendants",
        visible_alias = "descent",
        alias = "descentants"
    )]
    descendants: bool,
    /// Say what is about to be signalled (PiP's `-v`).
    #[arg(short = 'v', long = "verbose")]
    verbose: bool,
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

/// Which jobs, and how to show them (the listing, `signals`, `waits`).
#[derive(Args, Debug, Default)]
struct ViewArgs {
    #[command(flatten)]
    select: Select,
    /// Print JSON.
    #[arg(long)]
    json: bool,
    /// Refresh every SECS seconds (default 1) in place, until interrupted.
    #[arg(long, value_name = "SECS", num_args = 0..=1, default_missing_value = "1")]
    watch: Option<f64>,
}

#[derive(Args, Debug, Clone, Copy, Default)]
struct Hide {
    /// Leave out fds 0, 1 and 2.
    #[arg(long)]
    hide_stdio: bool,
    /// Leave out pip-core's task images (the `/memfd:pip-task:...` files). The diagrams
    /// (--svg, --dot, `pips serve`) leave them out unless --show-images is given, and say how
    /// many they left out.
    #[arg(long, conflicts_with = "show_images")]
    hide_images: bool,
    /// Draw pip-core's task images in the diagrams too.
    #[arg(long)]
    show_images: bool,
}

impl Hide {
    /// Whether task images are left out: of a diagram (`diagram`) unless --show-images, of
    /// text and JSON only with --hide-images.
    fn images(&self, diagram: bool) -> bool {
        self.hide_images || (diagram && !self.show_images)
    }
}

#[derive(Args, Debug)]
struct FdsArgs {
    #[command(flatten)]
    select: Select,
    #[command(flatten)]
    hide: Hide,
    /// Print JSON.
    #[arg(long, group = "format")]
    json: bool,
    /// Print Graphviz DOT.
    #[arg(long, group = "format")]
    dot: bool,
    /// Print SVG (drawn by the system's `dot` when installed, else by pips's own layout).
    #[arg(long, group = "format")]
    svg: bool,
    /// With --svg: always use pips's own three-row layout.
    #[arg(long)]
    builtin: bool,
    /// Refresh every SECS seconds (default 1) in place (text only).
    #[arg(long, value_name = "SECS", num_args = 0..=1, default_missing_value = "1")]
    watch: Option<f64>,
}

fn fail(e: impl std::fmt::Display) -> ExitCode {
    eprintln!("pips: {e}");
    ExitCode::from(1)
}

/// Prints `render()` every `secs` seconds, in place, until interrupted; or once.
fn output(watch: Option<f64>, mut render: impl FnMut() -> String) -> ExitCode {
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

fn list(a: ListArgs) -> ExitCode {
    let ViewArgs {
        select,
        json,
        watch,
    } = a.view;
    let whole_jobs = a.family || a.descendants;
    if a.kill || a.signal.is_some() {
        let sig = match a.signal.as_deref().map(jobs::parse_signal) {
            None => libc::SIGTERM,
            Some(Some(s)) => s,
            Some(None) => return fail(format!("unknown signal `{}`", a.signal.unwrap())),
        };
        let selected = if whole_jobs {
            family_jobs(&select, a.descendants)
        } else {
            select.jobs()
        };
        // Tasks first, then (with -f or -d) their roots, as PiP's pips does.
        let rows: Vec<(&jobs::Task, bool)> = selected
            .iter()
            .flat_map(|j| j.task_rows().map(|t| (t, false)))
            .chain(
                selected
                    .iter()
                    .filter(|_| whole_jobs)
                    .flat_map(|j| j.tasks.iter().filter(|t| t.role == jobs::Role::Root))
                    .map(|t| (t, true)),
            )
            .collect();
        let mut sent = Vec::new();
        for (t, whole_process) in rows {
            if a.verbose {
                let what = if whole_process {
                    format!("root of job {}", t.job)
                } else {
                    format!("{} of job {}", t.label(), t.job)
                };
                println!(
                    "pips: sending {} to {what} (pid {}, tid {})",
                    pips::signals::signal_name(sig),
                    t.pid,
                    t.tid
                );
            }
            sent.push(jobs::signal_task(t, sig, whole_process));
        }
        killed::confirm_ended(&mut sent, killed::KILL_WAIT);
        return report_sent(&sent);
    }
    if watch.is_none() && !select.jobs.is_empty() {
        // Jobs asked for by pid that are not there: say why (ended, not a PiP job).
        let all = jobs::scan(true);
        for &pid in &select.jobs {
            if let Err(e) = jobs::find_job(&all, pid) {
                return fail(e);
            }
        }
    }
    let chosen = || {
        if whole_jobs {
            family_jobs(&select, a.descendants)
        } else {
            select.jobs()
        }
    };
    if json {
        return output(watch, || {
            let v: Vec<_> = chosen().iter().map(Job::to_json).collect();
            format!("{}\n", serde_json::to_string_pretty(&v).unwrap())
        });
    }
    output(watch, || render::jobs_text(&chosen()))
}

/// PiP's `-f` and `-d`: whole jobs (every row). With `descendants`, a job whose root process is
/// a numeric PATTERN or a descendant of one; otherwise (and also) a job of which anything
/// matches the selection.
fn family_jobs(select: &Select, descendants: bool) -> Vec<Job> {
    let all = select.filter_jobs_only().apply(jobs::scan(
        select.all_users || !select.jobs.is_empty() || descendants,
    ));
    let seeds: Vec<i32> = select
        .patterns
        .iter()
        .filter_map(|p| p.parse().ok())
        .collect();
    all.into_iter()
        .filter(|j| {
            (descendants && seeds.iter().any(|&s| pips::procfs::descends_from(j.pid, s)))
                || !select.filter().apply(vec![j.clone()]).is_empty()
        })
        .collect()
}

fn report_sent(sent: &[jobs::Sent]) -> ExitCode {
    if sent.is_empty() {
        return fail("no task matched");
    }
    let mut ok = true;
    for s in sent {
        match &s.result {
            Ok(()) if killed::is_a_kill(s.signal) => println!(
                "{}: sent {}; it has ended",
                s.what,
                pips::signals::signal_name(s.signal)
            ),
            Ok(()) => println!("{}: sent {}", s.what, pips::signals::signal_name(s.signal)),
            // Among several targets, one that ended meanwhile (often because the root ended
            // the job when an earlier one died) is not a failure.
            Err(PipsError::Gone(_)) if sent.len() > 1 => println!("{}: already ended", s.what),
            Err(e) => {
                ok = false;
                eprintln!("pips: {e}");
            }
        }
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn kill(signal: &str, targets: &[String]) -> ExitCode {
    let Some(sig) = jobs::parse_signal(signal) else {
        return fail(format!("unknown signal `{signal}`"));
    };
    let all = jobs::scan(false);
    let mut sent = Vec::new();
    for t in targets {
        let target: Target = match t.parse() {
            Ok(t) => t,
            Err(e) => return fail(e),
        };
        match jobs::kill(&all, &target, sig) {
            Ok(s) => sent.extend(s),
            Err(e) => return fail(e),
        }
    }
    // A kill is reported as done only once its targets have ended.
    killed::confirm_ended(&mut sent, killed::KILL_WAIT);
    report_sent(&sent)
}

/// The jobs `pips fds`/`serve` work on, with an error when there are none.
fn chosen_jobs(select: &Select) -> Result<Vec<Job>, PipsError> {
    let jobs = select.jobs();
    if jobs.is_empty() {
        if let Some(&pid) = select.jobs.first() {
            return Err(match jobs::find_job(&jobs::scan(true), pid) {
                Err(e) => e,
                Ok(_) => PipsError::NotFound(format!("job {pid} has no task that matches")),
            });
        }
        return Err(PipsError::NotFound("no PiP job is running".into()));
    }
    Ok(jobs)
}

fn fds_cmd(a: FdsArgs) -> ExitCode {
    let jobs = match chosen_jobs(&a.select) {
        Ok(j) => j,
        Err(e) => return fail(e),
    };
    let diagram = a.dot || a.svg;
    let snap = |job: &Job, tr: &mut fds::Tracker| {
        let mut s = pips::job_snapshot(job, tr);
        s.hide(a.hide.hide_stdio, a.hide.images(diagram));
        s
    };
    if diagram {
        if jobs.len() > 1 {
            let pids: Vec<String> = jobs.iter().map(|j| j.pid.to_string()).collect();
            return fail(format!(
                "{} jobs match ({}): choose one with --job",
                jobs.len(),
                pids.join(", ")
            ));
        }
        let s = snap(&jobs[0], &mut fds::Tracker::new());
        let title = render::job_title(&jobs[0]);
        if a.dot {
            print!("{}", render::fds_dot(&title, &s));
        } else {
            print!("{}", render::fds_svg(&title, &s, !a.builtin));
        }
        return ExitCode::SUCCESS;
    }
    let unreadable = std::cell::Cell::new(None);
    let mut trackers: Vec<(i32, fds::Tracker)> = Vec::new();
    let color = std::io::stdout().is_terminal();
    let select = a.select.clone();
    let mut first = Some(jobs);
    let code = output(a.watch, || {
        let jobs = first.take().unwrap_or_else(|| select.jobs());
        let mut text = String::new();
        let mut json = Vec::new();
        for j in &jobs {
            let tr = match trackers.iter_mut().position(|(p, _)| *p == j.pid) {
                Some(i) => &mut trackers[i].1,
                None => {
                    trackers.push((j.pid, fds::Tracker::new()));
                    &mut trackers.last_mut().unwrap().1
                }
            };
            let s = snap(j, tr);
            if s.tables.is_empty() && !s.errors.is_empty() {
                unreadable.set(Some(format!("job {}: {}", j.pid, s.errors.join("; "))));
            }
            if a.json {
                json.push(serde_json::json!({"job": j.to_json(), "fds": s.to_json()}));
            } else {
                text.push_str(&render::fds_text(&render::job_title(j), &s, color));
            }
        }
        if jobs.is_empty() {
            text.push_str("no PiP job is running\n");
        }
        if a.json {
            format!("{}\n", serde_json::to_string_pretty(&json).unwrap())
        } else {
            text
        }
    });
    match unreadable.take() {
        Some(why) => fail(why),
        None => code,
    }
}

fn signals_cmd(select: Select, json: bool, watch: Option<f64>) -> ExitCode {
    if let Err(e) = chosen_jobs(&select) {
        return fail(e);
    }
    output(watch, || {
        let rows = pips::job_signals(&select.jobs());
        if json {
            let v: Vec<_> = rows
                .iter()
                .map(|(job, s)| {
                    let mut j = s.to_json();
                    j["job"] = (*job).into();
                    j
                })
                .collect();
            format!("{}\n", serde_json::to_string_pretty(&v).unwrap())
        } else {
            render::signals_text(&rows)
        }
    })
}

fn waits_cmd(select: Select, json: bool, watch: Option<f64>, settle: Duration) -> ExitCode {
    if let Err(e) = chosen_jobs(&select) {
        return fail(e);
    }
    let found = std::cell::Cell::new(false);
    let errors = std::cell::RefCell::new(Vec::new());
    let code = output(watch, || {
        found.set(false);
        let mut graphs = Vec::new();
        for job in select.jobs() {
            match waits::stable_graph(&job, settle) {
                Ok(g) => graphs.push(g),
                Err(e) => errors.borrow_mut().push(e.to_string()),
            }
        }
        found.set(
            graphs
                .iter()
                .any(|g| !g.deadlocks.is_empty() || g.nodes.iter().any(|n| n.waits_for_ended)),
        );
        if json {
            let v: Vec<_> = graphs.iter().map(waits::Graph::to_json).collect();
            format!("{}\n", serde_json::to_string_pretty(&v).unwrap())
        } else {
            graphs.iter().map(waits::Graph::to_text).collect()
        }
    });
    if code != ExitCode::SUCCESS {
        return code;
    }
    for e in errors.borrow().iter() {
        eprintln!("pips: {e}");
    }
    if found.get() {
        ExitCode::from(3)
    } else if errors.borrow().is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn serve_cmd(select: Select, port: u16, hide: Hide) -> ExitCode {
    let jobs = match chosen_jobs(&select) {
        Ok(j) => j,
        Err(e) => return fail(e),
    };
    if jobs.len() > 1 {
        return fail(format!("{} jobs match: choose one with --job", jobs.len()));
    }
    let pid = jobs[0].pid;
    let access = serve::Access {
        server_uid: pips::procfs::my_uid(),
        job_uid: pips::procfs::owner(pid).ok(),
    };
    let listener = match std::net::TcpListener::bind(("127.0.0.1", port)) {
        Ok(l) => l,
        Err(e) => return fail(format!("cannot listen on 127.0.0.1:{port}: {e}")),
    };
    let addr = listener.local_addr().unwrap();
    println!("pips: serving job {pid} on http://{addr}/");
    let _ = std::io::stdout().flush();
    // From here on, a client that goes away must cost only its own connection.
    pip_tools::ignore_sigpipe();
    let mut tracker = fds::Tracker::new();
    let stop = std::sync::atomic::AtomicBool::new(false);
    let select = Select {
        jobs: vec![pid],
        ..select
    };
    let mut last: Option<serve::Frame> = None;
    let r = serve::serve(listener, &stop, access, || {
        let Some(job) = select.jobs().into_iter().next() else {
            // Keep the last snapshot on the page, marked as ended.
            return serve::Frame::ended(
                last.as_ref(),
                format!("job {pid} has ended"),
                tracker.generation,
            );
        };
        let mut s = pips::job_snapshot(&job, &mut tracker);
        s.hide(hide.hide_stdio, hide.images(true));
        let title = render::job_title(&job);
        let waits = match waits::stable_graph(&job, waits::DEFAULT_SETTLE) {
            Ok(g) => g.to_json(),
            Err(e) => {
                s.errors.push(format!("waits: {e}"));
                serde_json::Value::Null
            }
        };
        let signals = pips::job_signals(std::slice::from_ref(&job))
            .iter()
            .map(|(_, t)| t.to_json())
            .collect();
        let frame = serve::Frame {
            svg: render::fds_svg_builtin(&title, &s),
            text: render::fds_text(&title, &s, false),
            warnings: s.warnings.iter().map(|w| w.text.clone()).collect(),
            errors: s.errors.clone(),
            generation: tracker.generation,
            job: job.to_json(),
            waits,
            signals,
            ended: false,
            title,
        };
        last = Some(frame.clone());
        frame
    });
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(e),
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
