//! mpirun habits in `pip-exec`'s command line: mpirun's spellings of options (`-np`,
//! `-bind-to`, ...), unknown options named as errors, `-x VAR[=VAL]`, binding and mapping
//! words, and the lookup of a program on `PATH`.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// mpirun's single-dash spellings of long options, and what pip-exec calls them.
const SINGLE_DASH: [(&str, &str); 5] = [
    ("-np", "--np"),
    ("-bind-to", "--bind-to"),
    ("-report-bindings", "--report-bindings"),
    ("-oversubscribe", "--oversubscribe"),
    ("-map-by", "--map-by"),
];

/// Rewrites mpirun's single-dash long options (`-np 2`, `-bind-to core`, ...) before the program
/// into the spellings `cmd` knows, and refuses an option before the program that `cmd` does not
/// know, naming it. `args[0]` is the tool's own name. Nothing from the program on is looked at:
/// the program and its arguments are passed as given. `--` ends the options (a program whose
/// name starts with `-` can follow it).
///
/// ```
/// use clap::{Arg, ArgAction, Command};
/// use pip_tools::cmdline::mpirun_spellings;
/// let cmd = Command::new("t")
///     .arg(Arg::new("n").short('n').long("np"))
///     .arg(Arg::new("rest").num_args(1..).trailing_var_arg(true).allow_hyphen_values(true));
/// let args = |s: &str| s.split(' ').map(std::ffi::OsString::from).collect::<Vec<_>>();
/// let out = mpirun_spellings(&cmd, args("t -np 2 prog -np 3")).unwrap();
/// assert_eq!(out, args("t --np 2 prog -np 3"));
/// let e = mpirun_spellings(&cmd, args("t --foo prog")).unwrap_err();
/// assert_eq!(e, "unknown option --foo (see t --help)");
/// ```
pub fn mpirun_spellings(cmd: &clap::Command, args: Vec<OsString>) -> Result<Vec<OsString>, String> {
    let mut cmd = cmd.clone();
    cmd.build();
    let tool = cmd.get_name().to_string();
    let unknown = |a: &str| format!("unknown option {a} (see {tool} --help)");
    let takes_value = |a: &clap::Arg| a.get_num_args().is_some_and(|n| n.takes_values());
    let mut out = Vec::with_capacity(args.len());
    let mut it = args.into_iter();
    out.extend(it.next());
    while let Some(arg) = it.next() {
        let bytes = arg.as_bytes();
        if arg == "--" || !bytes.starts_with(b"-") || bytes == b"-" {
            out.push(arg);
            break; // The program (or `--` before it).
        }
        // Options are text; a non-UTF-8 one cannot be any of ours.
        let text = arg.to_string_lossy().into_owned();
        let text = SINGLE_DASH
            .iter()
            .find(|(mpirun, _)| *mpirun == text)
            .map_or(text.clone(), |(_, ours)| ours.to_string());
        let wants_value = if let Some(long) = text.strip_prefix("--") {
            let (name, inline) = match long.split_once('=') {
                Some((name, _)) => (name, true),
                None => (long, false),
            };
            let a = cmd
                .get_arguments()
                .find(|a| {
                    a.get_long() == Some(name)
                        || a.get_all_aliases().is_some_and(|v| v.contains(&name))
                })
                .ok_or_else(|| unknown(&text))?;
            takes_value(a) && !inline
        } else {
            let c = text.chars().nth(1).unwrap_or('-');
            let a = cmd
                .get_arguments()
                .find(|a| a.get_short() == Some(c))
                .ok_or_else(|| unknown(&text))?;
            takes_value(a) && text.chars().count() == 2
        };
        out.push(OsString::from(text));
        if wants_value {
            out.extend(it.next());
        }
    }
    out.extend(it);
    Ok(out)
}

/// Splits a `-x VAR[=VAL]` value into the name and the value, if one is given.
///
/// ```
/// use pip_tools::cmdline::env_assignment;
/// assert_eq!(env_assignment("A=1=2".as_ref()).unwrap(), ("A".into(), Some("1=2".into())));
/// assert_eq!(env_assignment("HOME".as_ref()).unwrap(), ("HOME".into(), None));
/// assert!(env_assignment("=1".as_ref()).is_err());
/// ```
pub fn env_assignment(s: &OsStr) -> Result<(OsString, Option<OsString>), String> {
    let b = s.as_bytes();
    let (name, value) = match b.iter().position(|&c| c == b'=') {
        Some(i) => (&b[..i], Some(OsStr::from_bytes(&b[i + 1..]).to_os_string())),
        None => (b, None),
    };
    if name.is_empty()
        || name.contains(&0)
        || value.as_ref().is_some_and(|v| v.as_bytes().contains(&0))
    {
        return Err(format!(
            "-x {}: want VAR (pass the root's value of VAR) or VAR=VALUE",
            s.to_string_lossy()
        ));
    }
    Ok((OsStr::from_bytes(name).to_os_string(), value))
}

/// `--bind-to`: pin each task to a CPU, or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BindTo {
    /// Task i runs on the i-th CPU (round robin) of `--cores LIST`, else of the CPUs pip-exec
    /// may use.
    Core,
    /// Tasks are not pinned (the default).
    None,
}

/// The CPU list tasks are pinned to (task i to `list[i % len]`), from `--cores` and
/// `--bind-to`, or `None` for no pinning.
///
/// ```
/// use pip_tools::cmdline::{binding, BindTo};
/// assert_eq!(binding(None, None, &[0, 1]).unwrap(), None);
/// assert_eq!(binding(None, Some(BindTo::Core), &[2, 3]).unwrap(), Some(vec![2, 3]));
/// assert_eq!(binding(Some(vec![1]), Some(BindTo::Core), &[0, 1]).unwrap(), Some(vec![1]));
/// assert!(binding(Some(vec![1]), Some(BindTo::None), &[0, 1]).is_err());
/// ```
pub fn binding(
    cores: Option<Vec<usize>>,
    bind_to: Option<BindTo>,
    allowed: &[usize],
) -> Result<Option<Vec<usize>>, String> {
    match (cores, bind_to) {
        (Some(_), Some(BindTo::None)) => {
            Err("--bind-to none and --cores contradict each other: give one of them".into())
        }
        (Some(c), _) => Ok(Some(c)),
        (None, Some(BindTo::Core)) if allowed.is_empty() => {
            Err("--bind-to core: cannot read the CPUs this process may use; give them with --cores LIST".into())
        }
        (None, Some(BindTo::Core)) => Ok(Some(allowed.to_vec())),
        (None, _) => Ok(None),
    }
}

/// Checks a `--map-by` policy: pip-exec runs one node and places task i on CPU i of the
/// binding list, which is mpirun's `core` (or `slot`) mapping; other policies are refused.
///
/// ```
/// assert!(pip_tools::cmdline::check_map_by("core").is_ok());
/// assert!(pip_tools::cmdline::check_map_by("socket").unwrap_err().contains("core or slot"));
/// ```
pub fn check_map_by(policy: &str) -> Result<(), String> {
    match policy {
        "core" | "slot" => Ok(()),
        _ => Err(format!(
            "--map-by {policy}: not supported. A job runs on one node and task i goes to CPU i of the binding list (mpirun's --map-by core); pip-exec accepts --map-by core or slot only"
        )),
    }
}

/// The `--report-bindings` line for one task.
///
/// ```
/// use pip_tools::cmdline::binding_report;
/// assert_eq!(binding_report(1, "a.so", Some(3), &[0, 3]), "pip-exec: task 1 (a.so) bound to CPU 3");
/// assert_eq!(binding_report(0, "a.so", None, &[0, 1]), "pip-exec: task 0 (a.so) not bound (may run on CPUs 0-1)");
/// ```
pub fn binding_report(pipid: usize, prog: &str, core: Option<usize>, allowed: &[usize]) -> String {
    match core {
        Some(c) => format!("pip-exec: task {pipid} ({prog}) bound to CPU {c}"),
        None if allowed.is_empty() => format!("pip-exec: task {pipid} ({prog}) not bound"),
        None => format!(
            "pip-exec: task {pipid} ({prog}) not bound (may run on CPUs {})",
            crate::exec::format_cpus(allowed)
        ),
    }
}

/// Finds the program as mpirun does. A name with a `/` is used as given (relative to the
/// current directory). A bare name is looked up in the directories of `path` (`PATH`; an empty
/// entry is the current directory), where it must be an executable regular file, and then, as
/// Open MPI's mpirun does, in the current directory `cwd` (found there it is `./NAME`). When the
/// program is missing and a Rust library (`lib<name>.rlib`) sits where it should be, the error
/// says how to build the `cdylib`.
///
/// ```
/// use pip_tools::cmdline::find_program;
/// use std::path::Path;
/// let p = find_program(Path::new("sh"), Some("/nonexistent:/bin".as_ref()), Path::new("/")).unwrap();
/// assert_eq!(p, Path::new("/bin/sh"));
/// assert_eq!(find_program(Path::new("./x.so"), None, Path::new("/")).unwrap(), Path::new("./x.so"));
/// let e = find_program(Path::new("no-such-prog"), Some("/bin".as_ref()), Path::new("/")).unwrap_err();
/// assert!(e.contains("not on PATH"), "{e}");
/// ```
pub fn find_program(prog: &Path, path: Option<&OsStr>, cwd: &Path) -> Result<PathBuf, String> {
    if prog.as_os_str().as_bytes().contains(&b'/') {
        let at = if prog.is_absolute() {
            prog.to_path_buf()
        } else {
            cwd.join(prog)
        };
        if std::fs::symlink_metadata(&at).is_err() {
            if let Some(hint) = rlib_hint(&at) {
                return Err(format!("{}: no such file; {hint}", prog.display()));
            }
        }
        return Ok(prog.to_path_buf());
    }
    let dirs = path
        .map(|p| p.as_bytes().split(|&c| c == b':'))
        .into_iter()
        .flatten();
    for dir in dirs {
        let dir = if dir.is_empty() {
            cwd.to_path_buf()
        } else {
            cwd.join(OsStr::from_bytes(dir))
        };
        let candidate = dir.join(prog);
        let runnable = std::fs::metadata(&candidate)
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0);
        if runnable {
            return Ok(candidate);
        }
    }
    if std::fs::symlink_metadata(cwd.join(prog)).is_ok() {
        return Ok(Path::new(".").join(prog));
    }
    let hint = rlib_hint(&cwd.join(prog)).map_or(String::new(), |h| format!("; {h}"));
    Err(format!(
        "{}: no such program (not on PATH nor in the current directory){hint}",
        prog.display()
    ))
}

/// When `missing` is `.../lib<name>.so` (or `<name>.so`) and a Rust library of that name
/// (`lib<name>.rlib` or `<name>.rlib`) is next to it, says that the crate was built without
/// `crate-type = ["cdylib"]`.
pub fn rlib_hint(missing: &Path) -> Option<String> {
    let file = missing.file_name()?.to_str()?;
    let name = file.strip_suffix(".so")?;
    let name = name.strip_prefix("lib").unwrap_or(name);
    let dir = missing.parent()?;
    [format!("lib{name}.rlib"), format!("{name}.rlib")]
        .into_iter()
        .find(|rlib| dir.join(rlib).is_file())
        .map(|rlib| {
            format!("{rlib} is there: add `crate-type = [\"cdylib\"]` to [lib] in Cargo.toml (a task is a cdylib)")
        })
}
