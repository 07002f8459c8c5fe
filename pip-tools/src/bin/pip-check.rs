//! `pip-check`: says whether files can be PiP tasks or roots, and why not. See `pip-check --help`.
use clap::{CommandFactory, Parser};
use pip_tools::check::{check_file, Want};
use std::path::PathBuf;
use std::process::ExitCode;

/// Say whether each FILE can be a PiP task (and under which isolation levels), or a PiP root.
///
/// A task is a shared object that exports its entry: a Rust cdylib marked with
/// `pip_core::task_main!`, a C program built `cc -shared -fPIC` that defines `main`, or a C PIE
/// linked `-rdynamic`. Executables with thread-locals (every Rust executable) cannot be tasks.
/// A root is an executable that links pip-core and exports `exit`
/// (`-Wl,--export-dynamic-symbol=exit`), so that a task's exit() ends only that task.
///
///     pip-check target/debug/examples/libhello.so
///     pip-check -t -f worker ./libjob.so
///     pip-check -r target/debug/pip-exec
///
/// With neither -t nor -r a file passes when it can be a task or a root. The checks are the
/// ones pip-exec makes before it starts any task, with the same messages. PiP's option names
/// work too (--piproot, --piptask, --pipboth, -v), with PiP's meaning and exit codes. A task's
/// entry must be exported: a PIE linked without -rdynamic (a plain `cc` build) is refused by
/// pip-check and pip-exec alike, as PiP's pip-check refuses it.
///
/// Exit code: 0 when every file passes, 1 when one does not, 2 on a usage error.
#[derive(Parser, Debug)]
#[command(name = "pip-check", version, verbatim_doc_comment)]
struct Cli {
    /// Pass only files that can be tasks (PiP's `--piptask`).
    #[arg(short = 't', long = "task", visible_alias = "piptask")]
    task: bool,
    /// Pass only files that can be roots (PiP's `--piproot`).
    #[arg(short = 'r', long = "root", visible_alias = "piproot")]
    root: bool,
    /// Pass only files that can be both (same as -t -r; PiP's `--pipboth`).
    #[arg(short = 'b', long = "both", visible_alias = "pipboth")]
    both: bool,
    /// Accepted for PiP's `pip-check -v` (show the reasons): the reasons are always shown.
    #[arg(short = 'v', long = "verbose")]
    verbose: bool,
    /// Check this start function (`int FUNC(void *)`, as `pip-exec -f FUNC`) instead of `main`.
    #[arg(short = 'f', long = "function", value_name = "FUNC")]
    func: Option<String>,
    /// Print one JSON object per file (a JSON array).
    #[arg(long, conflicts_with = "quiet")]
    json: bool,
    /// Print nothing: the exit code says whether every file passed.
    #[arg(short = 'q', long)]
    quiet: bool,
    /// The files to check.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
}

fn main() -> ExitCode {
    pip_tools::default_sigpipe();
    pip_tools::generate::generate_if_asked(Cli::command);
    let cli = Cli::parse();
    // -v only makes PiP's command lines work: the reasons are printed anyway.
    let _ = cli.verbose;
    let want = Want::from_flags(cli.task, cli.root, cli.both);
    let entry = cli.func.as_deref().unwrap_or("main");
    let reports: Vec<_> = cli.files.iter().map(|f| check_file(f, entry)).collect();
    if cli.json {
        let items: Vec<String> = reports.iter().map(|r| r.to_json(want)).collect();
        println!("[{}]", items.join(",\n "));
    } else if !cli.quiet {
        for r in &reports {
            print!("{}", r.to_text(want));
        }
    }
    if reports.iter().all(|r| r.passes(want)) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
