//! The driver behind `mpiexec` and `mpirun`: pip-exec with MPI's options.
//!
//! ```text
//! mpiexec -n N [pip-exec options] PROGRAM [ARGS...]
//! ```
//!
//! `-n N` and `-np N` (and `--n`, `--np`, `-n=N`) give the number of ranks, which become the
//! tasks of one PiP job; every other option goes to pip-exec unchanged (see `pip-exec --help`:
//! for example `--mode process`). pip-exec must be next to the driver.
//!
//! # Isolation
//!
//! C programs keep state in libc's globals: `getopt`'s `optind`, `strtok`'s position, `rand`'s
//! seed. In pip-exec's default isolation (`shared-libc`) the tasks share one libc, so N ranks
//! parsing their arguments with `getopt` at once read and move one `optind` (the OSU benchmarks
//! then disagree on their iteration counts and deadlock). So, unless the command line chooses
//! an isolation level, an MPI job of at most [`NAMESPACE_MAX`] ranks runs with
//! `--isolation namespace` (a private libc per rank, as RIKEN's PiP does); a larger one keeps
//! `shared-libc`, whose limits docs/mpi.md describes.

use std::path::Path;
use std::process::{exit, Command};

/// The most tasks glibc's link namespaces allow in one process (16, one of them the root's).
pub const NAMESPACE_MAX: u32 = 15;

/// Adds `--isolation namespace` in front of pip-exec's arguments `args` unless the options
/// before the program (the first `before` arguments) choose an isolation level or ask for more
/// than [`NAMESPACE_MAX`] tasks (see the module documentation).
fn with_isolation(mut args: Vec<String>, before: usize) -> Vec<String> {
    let options = &args[..before.min(args.len())];
    if options
        .iter()
        .any(|a| a == "--isolation" || a.starts_with("--isolation="))
    {
        return args;
    }
    let ranks = options
        .iter()
        .position(|a| a == "-n")
        .and_then(|i| options.get(i + 1))
        .and_then(|n| n.parse::<u32>().ok())
        .unwrap_or(1);
    if ranks <= NAMESPACE_MAX {
        args.splice(0..0, ["--isolation".to_string(), "namespace".to_string()]);
    }
    args
}

const USAGE: &str = "usage: TOOL -n N [pip-exec options] PROGRAM [ARGS...]
Runs N ranks of an MPI program built with pip-rs's mpicc as the tasks of one PiP job (pip-exec).
  -n N, -np N   the number of ranks (default 1)
Other options before PROGRAM go to pip-exec (see pip-exec --help). Up to 15 ranks run with
--isolation namespace (a private libc per rank, so getopt and other libc state are per rank)
unless an --isolation option is given.";

/// Rewrites MPI's rank-count options into pip-exec's `-n`, up to the program's name.
#[cfg(test)]
fn translate(args: &[String]) -> Result<Vec<String>, String> {
    translate_at(args).map(|(out, _)| out)
}

/// [`translate`], and the index of the program's name in the result (its length if none).
fn translate_at(args: &[String]) -> Result<(Vec<String>, usize), String> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        let count = match a.as_str() {
            "-n" | "-np" | "--n" | "--np" | "-c" => {
                i += 1;
                Some(
                    args.get(i)
                        .ok_or(format!("{a} needs a number of ranks"))?
                        .clone(),
                )
            }
            _ => ["-n=", "-np=", "--n=", "--np="]
                .iter()
                .find_map(|p| a.strip_prefix(p))
                .map(str::to_string),
        };
        match count {
            Some(n) => {
                n.parse::<u32>().map_err(|_| {
                    format!("the number of ranks must be a positive integer, not {n:?}")
                })?;
                out.push("-n".to_string());
                out.push(n);
            }
            None if !a.starts_with('-') => {
                // The program: it and its arguments go unchanged.
                let at = out.len();
                out.extend(args[i..].iter().cloned());
                return Ok((out, at));
            }
            None => out.push(a.clone()),
        }
        i += 1;
    }
    let at = out.len();
    Ok((out, at))
}

/// Runs the driver as `name`; never returns.
pub fn run(name: &str) -> ! {
    let fail = |msg: &str| -> ! {
        eprintln!("{name}: {msg}");
        exit(2)
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.is_empty() || args.iter().any(|a| a == "--help" || a == "-h") {
        println!("{}", USAGE.replace("TOOL", name));
        exit(if args.is_empty() { 2 } else { 0 });
    }
    let (translated, program) = translate_at(&args).unwrap_or_else(|e| fail(&e));
    let translated = with_isolation(translated, program);
    let exe = std::env::current_exe().unwrap_or_else(|e| fail(&format!("cannot find myself: {e}")));
    let exe = exe.canonicalize().unwrap_or(exe);
    let pip_exec = exe.parent().unwrap_or(Path::new("/")).join("pip-exec");
    if !pip_exec.exists() {
        fail(&format!(
            "pip-exec is not next to {name} ({}): build it with `cargo build -p pip-tools`",
            pip_exec.display()
        ));
    }
    let err = std::os::unix::process::CommandExt::exec(Command::new(&pip_exec).args(&translated));
    fail(&format!("cannot run {}: {err}", pip_exec.display()))
}

#[cfg(test)]
mod tests {
    use super::{translate, translate_at, with_isolation};

    fn t(a: &[&str]) -> Result<Vec<String>, String> {
        translate(&a.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn rank_counts_become_pip_exec_n() {
        assert_eq!(
            t(&["-np", "4", "./a", "-n", "9"]).unwrap(),
            ["-n", "4", "./a", "-n", "9"]
        );
        assert_eq!(
            t(&["--n=3", "--mode", "process", "./a"]).unwrap(),
            ["-n", "3", "--mode", "process", "./a"]
        );
        assert!(t(&["-n", "x", "./a"]).is_err());
        assert!(t(&["-n"]).is_err());
    }

    fn iso(a: &[&str]) -> Vec<String> {
        let (out, at) = translate_at(&a.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap();
        with_isolation(out, at)
    }

    #[test]
    fn small_jobs_get_a_private_libc_per_rank_unless_told_otherwise() {
        assert_eq!(
            iso(&["-n", "4", "./a"]),
            ["--isolation", "namespace", "-n", "4", "./a"]
        );
        assert_eq!(
            iso(&["./a", "-n", "99"]),
            ["--isolation", "namespace", "./a", "-n", "99"]
        );
        assert_eq!(iso(&["-np", "16", "./a"]), ["-n", "16", "./a"]);
        assert_eq!(
            iso(&["--mode", "process", "-n", "2", "./a"]),
            [
                "--isolation",
                "namespace",
                "--mode",
                "process",
                "-n",
                "2",
                "./a"
            ]
        );
        assert_eq!(
            iso(&["--isolation", "shared-libc", "-n", "4", "./a"]),
            ["--isolation", "shared-libc", "-n", "4", "./a"]
        );
    }
}
