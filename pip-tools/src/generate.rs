//! Man pages and shell completions, generated from a tool's own clap definition so that they
//! always say what `--help` says. `scripts/install` runs every tool with
//!
//! ```text
//! TOOL --generate-man DIR             write DIR/TOOL.1 (and DIR/TOOL-SUBCOMMAND.1 for each subcommand)
//! TOOL --generate-completions SHELL   print the completion script for bash, zsh, fish, elvish or powershell
//! ```
//!
//! These options are looked at before the command line is parsed, and only as the first
//! argument; they are not part of the tool's interface, so `--help` does not list them.

use clap::Command;
use std::path::Path;
use std::process::exit;

/// The manual section title the pages carry.
const MANUAL: &str = "pip-rs";

/// If the first argument asks for a man page or completions, writes them for the command that
/// `command` builds and ends the process (exit code 0, or 2 after a message on stderr);
/// otherwise returns without doing anything. Call it first thing in `main`.
pub fn generate_if_asked(command: impl FnOnce() -> Command) {
    let mut args = std::env::args_os().skip(1);
    let Some(first) = args.next() else { return };
    let what = match first.to_str() {
        Some(w @ ("--generate-man" | "--generate-completions")) => w,
        _ => return,
    };
    let cmd = command();
    let name = cmd.get_name().to_string();
    let (Some(arg), None) = (args.next(), args.next()) else {
        eprintln!("{name}: usage: {name} --generate-man DIR | --generate-completions SHELL");
        exit(2);
    };
    let result = if what == "--generate-man" {
        write_man_pages(cmd, Path::new(&arg))
    } else {
        let shell = arg.to_string_lossy();
        match shell.parse::<clap_complete::Shell>() {
            Ok(sh) => {
                print_completions(cmd, sh);
                Ok(())
            }
            Err(_) => Err(format!(
                "unknown shell `{shell}` (give bash, zsh, fish, elvish or powershell)"
            )),
        }
    };
    match result {
        Ok(()) => exit(0),
        Err(e) => {
            eprintln!("{name}: {e}");
            exit(2)
        }
    }
}

/// Writes `DIR/NAME.1` for the command, and `DIR/NAME-SUB.1` for each of its visible
/// subcommands (recursively), creating `dir` if needed.
pub fn write_man_pages(cmd: Command, dir: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let version = cmd.get_version().unwrap_or_default().to_string();
    let mut cmd = cmd.disable_help_subcommand(true);
    // Building sets each subcommand's display name to `parent-sub`, the page's name.
    cmd.build();
    write_page(cmd, dir, &version)
}

fn write_page(cmd: Command, dir: &Path, version: &str) -> Result<(), String> {
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        write_page(sub.clone(), dir, version)?;
    }
    let man = clap_mangen::Man::new(cmd)
        .manual(MANUAL)
        .source(format!("{MANUAL} {version}"));
    let path = dir.join(man.get_filename());
    let mut page = Vec::new();
    man.render(&mut page)
        .and_then(|()| std::fs::write(&path, page))
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// Prints the completion script of `cmd` for `shell` on stdout.
pub fn print_completions(mut cmd: Command, shell: clap_complete::Shell) {
    let name = cmd.get_name().to_string();
    clap_complete::generate(shell, &mut cmd, name, &mut std::io::stdout());
}
