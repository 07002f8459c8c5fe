//! `pip-check`: can a file be a PiP task, or a PiP root, and if not, why not.
//!
//! Every fact comes from pip-core's fact sheet ([`pip_core::elf::fact_sheet`], one read of the
//! file), so `pip-check` refuses exactly what `pip-exec` and
//! [`Root::spawn`](pip_core::Root::spawn) refuse, with the same messages. This module only
//! decides which verdict counts ([`Want`]) and prints the sheet: as text, or as JSON through
//! serde.
//!
//! ```no_run
//! use pip_tools::check::{check_file, Want};
//! let report = check_file("target/debug/examples/libhello.so".as_ref(), "main");
//! assert!(report.passes(Want::Task));
//! print!("{}", report.to_text(Want::Either));
//! ```

use pip_core::elf::FactSheet;
pub use pip_core::elf::{FileKind, Language, TaskOk};
use pip_core::Isolation;
use serde::Serialize;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Which check decides whether a file passes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Want {
    /// The file must be able to be a task (`-t`).
    Task,
    /// The file must be able to be a root (`-r`).
    Root,
    /// The file must be able to be both (`-t -r`, or `-b`).
    Both,
    /// The file must be able to be one of them (no option).
    Either,
}

impl Want {
    /// The check asked for by pip-check's `-t`, `-r` and `-b` options.
    pub fn from_flags(task: bool, root: bool, both: bool) -> Want {
        match (task || both, root || both) {
            (true, true) => Want::Both,
            (true, false) => Want::Task,
            (false, true) => Want::Root,
            (false, false) => Want::Either,
        }
    }
}

/// The verdict on one file: the file as given and pip-core's fact sheet of it (whose fields
/// the report derefs to: `report.task`, `report.kind`...).
#[derive(Debug, Clone)]
pub struct Report {
    /// The file, as given.
    pub path: PathBuf,
    /// Everything pip-core found about it.
    pub sheet: FactSheet,
}

impl std::ops::Deref for Report {
    type Target = FactSheet;
    fn deref(&self) -> &FactSheet {
        &self.sheet
    }
}

impl std::ops::DerefMut for Report {
    fn deref_mut(&mut self) -> &mut FactSheet {
        &mut self.sheet
    }
}

/// Checks one file: can it be a task starting at `entry` (`main`, or a `-f` function), can it
/// be a root.
pub fn check_file(path: &Path, entry: &str) -> Report {
    Report {
        path: path.to_path_buf(),
        sheet: pip_core::elf::fact_sheet(path, entry),
    }
}

/// One object of `pip-check --json`: the file, whether it passed, then the fact sheet's fields.
#[derive(Serialize)]
struct JsonReport<'a> {
    file: String,
    pass: bool,
    #[serde(flatten)]
    sheet: &'a FactSheet,
}

impl Report {
    /// Does the file pass the check asked for?
    pub fn passes(&self, want: Want) -> bool {
        match want {
            Want::Task => self.is_task(),
            Want::Root => self.is_root(),
            Want::Both => self.is_task() && self.is_root(),
            Want::Either => self.is_task() || self.is_root(),
        }
    }

    /// The one-line verdict: `task`, `root`, `task and root`, `NOT a task`...
    pub fn verdict(&self, want: Want) -> String {
        let (t, r) = (self.is_task(), self.is_root());
        match want {
            Want::Task if t => "task".into(),
            Want::Task => "NOT a task".into(),
            Want::Root if r => "root".into(),
            Want::Root => "NOT a root".into(),
            Want::Both | Want::Either => match (t, r) {
                (true, true) => "task and root".into(),
                (true, false) if want == Want::Both => "task, NOT a root".into(),
                (true, false) => "task".into(),
                (false, true) if want == Want::Both => "root, NOT a task".into(),
                (false, true) => "root".into(),
                (false, false) => "NOT a task, NOT a root".into(),
            },
        }
    }

    /// What the file is, for people: kind and language.
    pub fn describe_kind(&self) -> String {
        self.description.clone()
    }

    /// The report for people: the verdict line, then what the file is, the entry, the task and
    /// root verdicts with their reasons, and the notes.
    pub fn to_text(&self, want: Want) -> String {
        let mut s = format!("{}: {}\n", self.path.display(), self.verdict(want));
        let _ = writeln!(s, "    kind:      {}", self.describe_kind());
        if self.kind == FileKind::Unreadable || self.kind == FileKind::Foreign {
            if let Err(e) = &self.task {
                let _ = writeln!(s, "    error:     {e}");
            }
            return s;
        }
        match &self.task {
            Ok(ok) => {
                let _ = writeln!(
                    s,
                    "    task:      yes, entry `{}`{}",
                    self.entry,
                    if ok.entry_exported {
                        " (exported)"
                    } else {
                        " (not exported)"
                    }
                );
                let levels: Vec<String> = ok
                    .isolation
                    .iter()
                    .map(|&i| match i {
                        Isolation::SharedLibc if ok.static_tls => {
                            format!(
                                "{} (copies limited by static TLS, see the note)",
                                i.as_str()
                            )
                        }
                        _ => format!("{} ({})", i.as_str(), isolation_limit(i)),
                    })
                    .collect();
                let _ = writeln!(s, "    isolation: {}", levels.join("; "));
            }
            Err(e) => {
                let _ = writeln!(s, "    task:      no: {e}");
            }
        }
        match &self.root {
            Ok(how) => {
                let _ = writeln!(s, "    root:      yes: {how}");
            }
            Err(e) => {
                let _ = writeln!(s, "    root:      no: {e}");
            }
        }
        for n in &self.notes {
            let _ = writeln!(s, "    note:      {n}");
        }
        s
    }

    /// The report as a JSON object: `file`, `pass`, then the fact sheet's fields (see
    /// [`FactSheet`]).
    pub fn to_json(&self, want: Want) -> String {
        serde_json::to_string(&JsonReport {
            file: self.path.display().to_string(),
            pass: self.passes(want),
            sheet: &self.sheet,
        })
        .expect("a fact sheet is plain data")
    }
}

/// What limits the number of tasks under an isolation level.
pub fn isolation_limit(isolation: Isolation) -> &'static str {
    match isolation {
        Isolation::SharedLibc => "no task limit",
        Isolation::Namespace => {
            "at most 11 tasks per process, 15 when the root starts with GLIBC_TUNABLES=glibc.rtld.nns=16, which pip-exec arranges"
        }
    }
}

/// Quotes a string for JSON.
///
/// ```
/// assert_eq!(pip_tools::check::json_str("a\"b\n"), "\"a\\\"b\\n\"");
/// ```
pub fn json_str(s: &str) -> String {
    serde_json::to_string(s).expect("a string is valid JSON")
}

#[cfg(test)]
mod tests;
