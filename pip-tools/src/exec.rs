//! Command-line parsing and exit-code rules of `pip-exec`.

use pip_core::{ExitStatus, Spawn};
use std::ffi::{OsStr, OsString};
use std::path::PathBuf;

/// One `:`-separated group of a `pip-exec` command line: N copies of one program.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// How many tasks.
    pub n: usize,
    /// Start function (`-f`), or `main`.
    pub func: Option<String>,
    /// The program (a path: any bytes).
    pub prog: PathBuf,
    /// Its arguments (bytes, passed to the task as given).
    pub args: Vec<OsString>,
}

impl Group {
    /// The spawn request for one task of this group.
    pub fn spawn(&self, core: Option<usize>, private_fds: bool) -> Spawn {
        let mut s = match &self.func {
            Some(f) => Spawn::function(&self.prog, f, std::ptr::null_mut()).args(&self.args),
            None => Spawn::program(&self.prog).args(&self.args),
        };
        if let Some(c) = core {
            s = s.core(c);
        }
        s.private_fds(private_fds)
    }
}

/// Splits `prog args... [: -n M [-f F] prog2 args...]...` into groups (`-np M` is taken as
/// `-n M`, as mpirun does; any other option before a later group's program is an error that
/// names it); the first group's
/// `-n`/`-f` come from the main options. Programs and arguments are taken as bytes (they need
/// not be UTF-8); only the `-n` and `-f` values of later groups must be text. One trailing `:`
/// (`prog :`) ends the last group and adds none, as PiP's pip-exec accepts it; an empty group
/// anywhere else (`a : : b`, or a lone `:`) is an error.
///
/// ```
/// use pip_tools::exec::parse_groups;
/// let rest: Vec<String> = "a.so x : -np 3 -f go b.so y z".split(' ').map(String::from).collect();
/// let g = parse_groups(2, None, &rest).unwrap();
/// assert_eq!((g[0].n, g[0].prog.to_str(), g[0].args.len()), (2, Some("a.so"), 1));
/// assert_eq!((g[1].n, g[1].func.as_deref(), g[1].args.len()), (3, Some("go"), 2));
/// let trailing: Vec<String> = "a.so x :".split(' ').map(String::from).collect();
/// assert_eq!(parse_groups(1, None, &trailing).unwrap().len(), 1);
/// let bad: Vec<String> = "a.so : --foo b.so".split(' ').map(String::from).collect();
/// assert!(parse_groups(1, None, &bad).unwrap_err().contains("unknown option --foo"));
/// ```
pub fn parse_groups<S: AsRef<OsStr>>(
    n: usize,
    func: Option<String>,
    rest: &[S],
) -> Result<Vec<Group>, String> {
    let mut groups = Vec::new();
    // PiP's pip-exec takes `prog args :` (a separator with nothing after it) as `prog args`.
    let rest = match rest.split_last() {
        Some((last, init)) if last.as_ref() == ":" && !init.is_empty() => init,
        _ => rest,
    };
    for (i, part) in rest.split(|a| a.as_ref() == ":").enumerate() {
        let (mut n, mut func) = if i == 0 { (n, func.clone()) } else { (1, None) };
        let mut it = part.iter().map(AsRef::as_ref).peekable();
        if i > 0 {
            while let Some(opt) = it.peek().and_then(|s| s.to_str()) {
                let text = |v: Option<&OsStr>, what: &str| -> Result<String, String> {
                    let v = v.ok_or_else(|| format!("{opt} needs {what}"))?;
                    v.to_str()
                        .map(String::from)
                        .ok_or_else(|| format!("{opt} {}: not valid UTF-8", v.to_string_lossy()))
                };
                match opt {
                    "-n" | "-np" => {
                        it.next();
                        let v = text(it.next(), "a number")?;
                        n = v.parse().map_err(|_| format!("-n {v}: not a number"))?;
                    }
                    "-f" => {
                        it.next();
                        func = Some(text(it.next(), "a function name")?);
                    }
                    _ if opt.len() > 1 && opt.starts_with('-') => {
                        return Err(format!(
                            "group {}: unknown option {opt} (after `:` a group takes only -n/-np N and -f FUNC; see pip-exec --help)",
                            i + 1
                        ));
                    }
                    _ => break,
                }
            }
        }
        let prog = PathBuf::from(
            it.next()
                .ok_or_else(|| format!("group {} has no program", i + 1))?,
        );
        if n == 0 {
            return Err(format!(
                "group {} ({}): -n must be at least 1",
                i + 1,
                prog.display()
            ));
        }
        groups.push(Group {
            n,
            func,
            prog,
            args: it.map(OsStr::to_os_string).collect(),
        });
    }
    Ok(groups)
}

/// Parses a CPU list such as `0,2,4-7`.
///
/// ```
/// assert_eq!(pip_tools::exec::parse_cores("0,2-4").unwrap(), vec![0, 2, 3, 4]);
/// assert!(pip_tools::exec::parse_cores("x").is_err());
/// ```
pub fn parse_cores(s: &str) -> Result<Vec<usize>, String> {
    let mut out = Vec::new();
    for part in s.split(',') {
        let bad = || format!("--cores {s}: `{part}` is not a CPU number or range");
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b): (usize, usize) =
                    (a.parse().map_err(|_| bad())?, b.parse().map_err(|_| bad())?);
                if a > b {
                    return Err(bad());
                }
                out.extend(a..=b);
            }
            None => out.push(part.parse().map_err(|_| bad())?),
        }
    }
    Ok(out)
}

/// The CPUs this process may run on (its affinity mask), in order.
pub fn allowed_cpus() -> Vec<usize> {
    // SAFETY: a zeroed cpu_set_t is a valid empty set; sched_getaffinity fills it.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) != 0 {
            return Vec::new();
        }
        (0..libc::CPU_SETSIZE as usize)
            .filter(|&c| libc::CPU_ISSET(c, &set))
            .collect()
    }
}

/// Formats a CPU list as ranges: `[0, 1, 2, 5]` gives `0-2,5`.
///
/// ```
/// assert_eq!(pip_tools::exec::format_cpus(&[0, 1, 2, 5]), "0-2,5");
/// ```
pub fn format_cpus(cpus: &[usize]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < cpus.len() {
        let mut j = i;
        while j + 1 < cpus.len() && cpus[j + 1] == cpus[j] + 1 {
            j += 1;
        }
        parts.push(if i == j {
            cpus[i].to_string()
        } else {
            format!("{}-{}", cpus[i], cpus[j])
        });
        i = j + 1;
    }
    parts.join(",")
}

/// Checks that every CPU of `--cores` is one this process may use (`allowed`), so that a bad
/// list is refused before any task starts.
///
/// ```
/// use pip_tools::exec::check_cores;
/// assert!(check_cores(&[0, 1], &[0, 1, 2]).is_ok());
/// let e = check_cores(&[7], &[0, 1]).unwrap_err();
/// assert!(e.contains("CPU 7") && e.contains("0-1"), "{e}");
/// ```
pub fn check_cores(cores: &[usize], allowed: &[usize]) -> Result<(), String> {
    if allowed.is_empty() {
        return Ok(()); // Unknown: let the kernel decide.
    }
    match cores.iter().find(|c| !allowed.contains(c)) {
        Some(c) => Err(format!(
            "--cores: CPU {c} is not available to this process (it may use CPUs {})",
            format_cpus(allowed)
        )),
        None => Ok(()),
    }
}

/// The exit code of a job: 128+N for the first task killed by signal N, otherwise the largest
/// exit code (a panic counts as 101); 0 when all succeeded.
///
/// ```
/// use pip_core::ExitStatus::*;
/// use pip_tools::exec::worst_status;
/// assert_eq!(worst_status(&[Exited(0), Exited(3), Exited(1)]), 3);
/// assert_eq!(worst_status(&[Exited(3), Signaled(11), Signaled(6)]), 139);
/// assert_eq!(worst_status(&[Panicked, Exited(0)]), 101);
/// ```
pub fn worst_status(statuses: &[ExitStatus]) -> i32 {
    if let Some(sig) = statuses.iter().find_map(|s| s.signal()) {
        return 128 + sig;
    }
    statuses
        .iter()
        .filter_map(|s| s.code())
        .map(|c| c & 0xff)
        .max()
        .unwrap_or(0)
}
