//! `pip-mode`: run a command with `PIP_MODE` set, or say which mode a job would use. See
//! `pip-mode --help`.
use clap::{ArgGroup, CommandFactory, Parser};
use pip_tools::mode::{plan, Action, ModeFlag};
use std::os::unix::process::CommandExt;
use std::process::ExitCode;

/// Run a command with the PiP execution mode set (`PIP_MODE`), or print the setting.
///
///     pip-mode -T pip-exec -n 4 ./libhello.so     run pip-exec with PIP_MODE=pthread
///     pip-mode -P                                 print PIP_MODE=process
///     pip-mode --show                             print the mode a job would use now
///                                                 (as printpipmode does)
///
/// Two modes are available: thread (-T, PIP_MODE=pthread as PiP spells it; `thread` is accepted
/// too: a task is a thread of the root's process) and process (-P, PIP_MODE=process: a task is a
/// process of its own in the root's address space). PiP's process:preload, process:pipclone and process:got (-L, -C, -G) need PiP's
/// patched glibc; they are recognised and refused with that explanation.
///
/// Exit code: the command's when it runs; 1 when the mode is refused; 126 or 127 when the
/// command cannot be run; 2 on a usage error.
#[derive(Parser, Debug)]
#[command(name = "pip-mode", version, verbatim_doc_comment)]
#[command(group(ArgGroup::new("mode").args(["thread", "process", "preload", "pipclone", "got"])))]
struct Cli {
    /// Thread mode: a task is a thread of the root's process (PIP_MODE=pthread).
    #[arg(
        short = 'T',
        short_alias = 't',
        long = "thread",
        visible_alias = "pthread"
    )]
    thread: bool,
    /// Process mode: a task is a process sharing the root's address space (PIP_MODE=process).
    #[arg(short = 'P', short_alias = 'p', long = "process")]
    process: bool,
    /// PiP's process:preload mode: needs PiP's patched glibc; refused.
    #[arg(short = 'L', short_alias = 'l', long = "process:preload")]
    preload: bool,
    /// PiP's process:pipclone mode: needs PiP's patched glibc; refused.
    #[arg(short = 'C', short_alias = 'c', long = "process:pipclone")]
    pipclone: bool,
    /// PiP's obsolete process:got mode: not available.
    #[arg(short = 'G', long = "process:got")]
    got: bool,
    /// Print the mode a job started now would use (`pthread` or `process`), as PiP's printpipmode does.
    #[arg(long)]
    show: bool,
    /// The command to run, with its arguments.
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "CMD ARGS"
    )]
    command: Vec<String>,
}

fn main() -> ExitCode {
    pip_tools::default_sigpipe();
    pip_tools::generate::generate_if_asked(Cli::command);
    let cli = Cli::parse();
    let flag = [
        (cli.thread, ModeFlag::Thread),
        (cli.process, ModeFlag::Process),
        (cli.preload, ModeFlag::ProcessPreload),
        (cli.pipclone, ModeFlag::ProcessPipclone),
        (cli.got, ModeFlag::ProcessGot),
    ]
    .into_iter()
    .find_map(|(set, f)| set.then_some(f));
    let action = match plan(flag, cli.show, !cli.command.is_empty()) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("pip-mode: {e}");
            return ExitCode::from(2);
        }
    };
    if let Some(f) = flag {
        // Single-threaded here: nothing else reads the environment concurrently.
        std::env::set_var("PIP_MODE", f.env_value());
    }
    // pip-core decides which modes exist, exactly as a root started with this environment.
    let mode = match pip_core::Mode::from_env() {
        Ok(m) => m,
        Err(e) => {
            eprintln!("pip-mode: {e}");
            return ExitCode::from(1);
        }
    };
    match action {
        Action::Show => {
            println!("{}", mode.as_str());
            ExitCode::SUCCESS
        }
        Action::PrintSetting(value) => {
            println!("PIP_MODE={value}");
            ExitCode::SUCCESS
        }
        Action::Run(_) => {
            let err = std::process::Command::new(&cli.command[0])
                .args(&cli.command[1..])
                .exec();
            eprintln!("pip-mode: cannot run `{}`: {err}", cli.command[0]);
            ExitCode::from(if err.kind() == std::io::ErrorKind::NotFound {
                127
            } else {
                126
            })
        }
    }
}
