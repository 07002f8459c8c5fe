//! The driver behind `mpiexec` and `mpirun`: pip-exec with MPI's options.
//!
//! ```text
//! mpiexec -n N [pip-exec options] PROGRAM [ARGS...]
//! ```
//!
//! `-n N` and `-np N` (and `--n`, `--np`, `-n=N`) give the number of ranks, which become the
//! tasks of one PiP job; every other option goes to pip-exec unchanged (see `pip-exec --help`:
//! for example `--mode process`). pip-exec must be next to the driver.

use std::path::Path;
use std::process::{exit, Command};

const USAGE: &str = "usage: TOOL -n N [pip-exec options] PROGRAM [ARGS...]
Runs N ranks of an MPI program built with pip-rs's mpicc as the tasks of one PiP job (pip-exec).
  -n N, -np N   the number of ranks (default 1)
Other options before PROGRAM go to pip-exec (see pip-exec --help).";

/// Rewrites MPI's rank-count options into pip-exec's `-n`, up to the program's name.
fn translate(args: &[String]) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        let count = match a.as_str() {
            "-n" | "-np" | "--n" | "--np" | "-c" => {
                i += 1;
                Some(args.get(i).ok_or(format!("{a} needs a number of ranks"))?.clone())
            }
            _ => ["-n=", "-np=", "--n=", "--np="]
                .iter()
                .find_map(|p| a.strip_prefix(p))
                .map(str::to_string),
        };
        match count {
            Some(n) => {
                n.parse::<u32>()
                    .map_err(|_| format!("the number of ranks must be a positive integer, not {n:?}"))?;
                out.push("-n".to_string());
                out.push(n);
            }
            None if !a.starts_with('-') => {
                // The program: it and its arguments go unchanged.
                out.extend(args[i..].iter().cloned());
                return Ok(out);
            }
            None => out.push(a.clone()),
        }
        i += 1;
    }
    Ok(out)
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
    let translated = translate(&args).unwrap_or_else(|e| fail(&e));
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
    use super::translate;

    fn t(a: &[&str]) -> Result<Vec<String>, String> {
        translate(&a.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn rank_counts_become_pip_exec_n() {
        assert_eq!(t(&["-np", "4", "./a", "-n", "9"]).unwrap(), ["-n", "4", "./a", "-n", "9"]);
        assert_eq!(t(&["--n=3", "--mode", "process", "./a"]).unwrap(), ["-n", "3", "--mode", "process", "./a"]);
        assert!(t(&["-n", "x", "./a"]).is_err());
        assert!(t(&["-n"]).is_err());
    }
}
