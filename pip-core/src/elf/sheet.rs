//! The fact sheet of a file: can it be a task, can it be a root, and why not.
//!
//! [`fact_sheet`] reads a file once and returns everything `pip-check` prints about it: what
//! kind of file it is and what it was written in, whether it can be a task (the loader's own
//! checks, [`inspect_bytes`](super::inspect_bytes) and [`TaskFileInfo::entry`], plus what
//! PiP refuses too: an entry that is not exported), whether it can be a root (an executable
//! that exports `exit`, so that a task's `exit()` ends only that task), and notes. A root that
//! has already read a program for a spawn gives the same sheet without reading it again
//! ([`Root::fact_sheet`](crate::Root::fact_sheet)).
//!
//! The sheet is [`serde::Serialize`]: `pip-check --json` prints it as it is.
//!
//! ```
//! let sheet = pip_core::elf::fact_sheet("/etc/hostname".as_ref(), "main");
//! assert_eq!(sheet.kind, pip_core::elf::FileKind::Foreign);
//! assert!(sheet.task.unwrap_err().contains("not an ELF file"));
//! ```

use super::parse::ElfFacts;
use super::{read_task_file, ForeignMpi, ObjectKind, TaskFileError, TaskFileInfo, ATTACH_SYMBOL};
use crate::abi::TASK_INFO_SYMBOL;
use crate::Isolation;
use object::elf;
use serde::{Serialize, Serializer};
use std::path::Path;

/// What kind of file was checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FileKind {
    /// A shared object (`-shared -fPIC`, or a Rust cdylib).
    SharedObject,
    /// A position-independent executable (`DF_1_PIE`).
    Pie,
    /// A dynamically linked non-PIE executable (`ET_EXEC`).
    Executable,
    /// A statically linked executable (no dynamic section).
    StaticExecutable,
    /// A relocatable object (`.o`).
    Relocatable,
    /// Another ELF type (a core dump...).
    OtherElf,
    /// Not an ELF file, or an ELF file for another machine.
    Foreign,
    /// The file could not be read.
    Unreadable,
}

impl FileKind {
    /// A short machine-readable name (the one in the JSON output).
    pub fn id(self) -> &'static str {
        match self {
            FileKind::SharedObject => "shared-object",
            FileKind::Pie => "pie",
            FileKind::Executable => "executable",
            FileKind::StaticExecutable => "static-executable",
            FileKind::Relocatable => "relocatable",
            FileKind::OtherElf => "other-elf",
            FileKind::Foreign => "foreign",
            FileKind::Unreadable => "unreadable",
        }
    }

    /// A description for people.
    pub fn describe(self) -> &'static str {
        match self {
            FileKind::SharedObject => "shared object",
            FileKind::Pie => "position-independent executable (PIE)",
            FileKind::Executable => "non-PIE executable",
            FileKind::StaticExecutable => "statically linked executable",
            FileKind::Relocatable => "relocatable object (.o)",
            FileKind::OtherElf => "ELF file that is neither a program nor a library",
            FileKind::Foreign => "not a loadable ELF file for this machine",
            FileKind::Unreadable => "unreadable",
        }
    }

    fn of(facts: &ElfFacts) -> FileKind {
        match facts.e_type {
            elf::ET_DYN if facts.pie_flag_offset.is_some() => FileKind::Pie,
            elf::ET_DYN => FileKind::SharedObject,
            elf::ET_EXEC if facts.dynamic => FileKind::Executable,
            elf::ET_EXEC => FileKind::StaticExecutable,
            elf::ET_REL => FileKind::Relocatable,
            _ => FileKind::OtherElf,
        }
    }
}

/// What the program was written in, as far as its symbols tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Language {
    /// A Rust task built with pip-core's `task_main!` (it exports `pip_rs_task_attach`); its
    /// ABI version is [`FactSheet::abi_version`].
    #[serde(rename = "rust-pip-task")]
    PipRsTask,
    /// Rust, without pip-core's task support.
    #[serde(rename = "rust")]
    Rust,
    /// C (or C++, Fortran...: anything without Rust's symbols).
    #[serde(rename = "c")]
    C,
    /// Unknown (the file is not a readable ELF file).
    #[serde(rename = "unknown")]
    Unknown,
}

impl Language {
    /// A short machine-readable name (the one in the JSON output).
    pub fn id(self) -> &'static str {
        match self {
            Language::PipRsTask => "rust-pip-task",
            Language::Rust => "rust",
            Language::C => "c",
            Language::Unknown => "unknown",
        }
    }
}

/// How a file can be a task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TaskOk {
    /// The isolation levels the task can run under (both, unless copy relocations rule out
    /// namespace isolation; the notes say what limits them).
    #[serde(serialize_with = "isolation_names")]
    pub isolation: Vec<Isolation>,
    /// The entry is in `.dynsym` (`dlsym` finds it); false when only `.symtab` has it.
    pub entry_exported: bool,
    /// Every copy takes static TLS space, which limits the number of copies.
    pub static_tls: bool,
}

/// Everything `pip-check` says about one file, from one read of it.
///
/// In JSON (`pip-check --json`, which adds the file and whether it passed) a verdict is an
/// object with `"ok"`: `{"ok":true,"isolation":[...],"entry_exported":true,"static_tls":false}`
/// for a task, `{"ok":true,"how":"..."}` for a root, `{"ok":false,"error":"..."}` for a refusal.
#[derive(Debug, Clone, Serialize)]
pub struct FactSheet {
    /// What kind of file it is.
    pub kind: FileKind,
    /// What it was written in.
    pub language: Language,
    /// The pip-core ABI version a Rust task was built with, when its ABI block could be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub abi_version: Option<u32>,
    /// What the file is, for people: kind and language (`Rust pip-rs task (pip-core ABI v3),
    /// shared object`).
    pub description: String,
    /// The entry symbol checked (`main`, or a start function).
    pub entry: String,
    /// `Ok` when the file can be a task; `Err` says why not and how to build it.
    #[serde(serialize_with = "task_verdict")]
    pub task: Result<TaskOk, String>,
    /// `Ok` (how) when the file can be a root; `Err` says why not and how to fix it.
    #[serde(serialize_with = "root_verdict")]
    pub root: Result<String, String>,
    /// The file defines `main` (exported or not).
    pub has_main: bool,
    /// Another MPI's library that the file needs (MPICH's `libmpi.so.12`, Open MPI's
    /// `libmpi.so.40`...), which is why it cannot be a task; `null` in JSON when there is none
    /// (pip-rs's own `libmpi.so` is not foreign). JSON:
    /// `"foreign_mpi":{"library":"libmpi.so.12","implementation":"MPICH"}`.
    pub foreign_mpi: Option<ForeignMpi>,
    /// Things worth knowing that do not stop the file from being used.
    pub notes: Vec<String>,
}

/// Reads `path` once and says whether it can be a task starting at `entry` (`main`, or a start
/// function), and whether it can be a root. Never fails: an unreadable file gets a sheet that
/// says why.
///
/// ```
/// use pip_core::elf::{fact_sheet, FileKind};
/// let sheet = fact_sheet("/nonexistent/task.so".as_ref(), "main");
/// assert_eq!(sheet.kind, FileKind::Unreadable);
/// assert_eq!(sheet.task.unwrap_err(), "no such file");
/// ```
pub fn fact_sheet(path: &Path, entry: &str) -> FactSheet {
    // pip-core's own reader: refuses FIFOs, devices, huge files and noexec mounts before
    // reading, with the messages the loader gives.
    match read_task_file(path) {
        Ok(data) => FactSheet::from_bytes(&data, entry),
        Err(e) => FactSheet::refused(FileKind::Unreadable, entry, e.to_string(), e.to_string()),
    }
}

impl FactSheet {
    /// The sheet of an ELF image held in memory. See [`fact_sheet`].
    pub fn from_bytes(data: &[u8], entry: &str) -> FactSheet {
        let facts = match ElfFacts::read(data) {
            Ok(f) => f,
            Err(e) => {
                let root = match e {
                    TaskFileError::NotElf => "not an ELF file".to_string(),
                    ref other => other.to_string(),
                };
                return FactSheet::refused(FileKind::Foreign, entry, e.to_string(), root);
            }
        };
        match TaskFileInfo::refusal(&facts) {
            Some(e) => FactSheet::from_facts(&facts, Err(e), entry),
            None => {
                let info = TaskFileInfo::from_checked_facts(facts);
                FactSheet::from_facts(&info.facts, Ok(&info), entry)
            }
        }
    }

    /// The sheet of a file the loader has accepted (read once, by [`super::inspect`]).
    pub fn of_task_file(info: &TaskFileInfo, entry: &str) -> FactSheet {
        FactSheet::from_facts(&info.facts, Ok(info), entry)
    }

    fn refused(kind: FileKind, entry: &str, task: String, root: String) -> FactSheet {
        FactSheet {
            kind,
            language: Language::Unknown,
            abi_version: None,
            description: kind.describe().to_string(),
            entry: entry.to_string(),
            task: Err(task),
            root: Err(root),
            notes: Vec::new(),
            has_main: false,
            foreign_mpi: None,
        }
    }

    fn from_facts(
        facts: &ElfFacts,
        checked: Result<&TaskFileInfo, TaskFileError>,
        entry: &str,
    ) -> FactSheet {
        let kind = FileKind::of(facts);
        let language = if facts.is_pip_rs_task() {
            Language::PipRsTask
        } else if facts.rust {
            Language::Rust
        } else {
            Language::C
        };
        let mut notes = Vec::new();
        let task = match checked {
            Ok(info) => task_verdict_of(info, facts, entry, &mut notes),
            Err(e) => Err(e.to_string()),
        };
        let root = root_verdict_of(kind, facts, &mut notes);
        let abi_version = facts.task_abi.map(|a| a.version);
        FactSheet {
            kind,
            language,
            abi_version: abi_version.filter(|_| language == Language::PipRsTask),
            description: describe(kind, language, abi_version, facts.has_main),
            entry: entry.to_string(),
            task,
            root,
            notes,
            has_main: facts.has_main,
            foreign_mpi: facts.foreign_mpi(),
        }
    }

    /// Can the file be a task?
    pub fn is_task(&self) -> bool {
        self.task.is_ok()
    }

    /// Can the file be a root?
    pub fn is_root(&self) -> bool {
        self.root.is_ok()
    }
}

/// What the file is, for people: kind and language.
fn describe(kind: FileKind, language: Language, abi: Option<u32>, has_main: bool) -> String {
    let lang = match (language, abi) {
        (Language::PipRsTask, Some(v)) => format!("Rust pip-rs task (pip-core ABI v{v})"),
        (Language::PipRsTask, None) => "Rust pip-rs task (pip-core ABI unreadable)".into(),
        (Language::Rust, _) => "Rust".into(),
        (Language::C, _) => "C".into(),
        (Language::Unknown, _) => return kind.describe().into(),
    };
    match (language, kind) {
        (Language::C, FileKind::SharedObject) if has_main => {
            "C program built as a shared object".into()
        }
        (Language::C, FileKind::SharedObject) => "C shared object".into(),
        (Language::C, FileKind::Pie) => "C program built as a PIE".into(),
        (Language::C, FileKind::Executable) => "C program built as a non-PIE executable".into(),
        (Language::Rust, FileKind::SharedObject) => "Rust shared object (not a pip-rs task)".into(),
        (Language::Rust, FileKind::Pie | FileKind::Executable) => "Rust executable".into(),
        (_, kind) => format!("{lang}, {}", kind.describe()),
    }
}

/// Why a file whose entry is only in `.symtab` (not exported) is not a task, and the fix.
fn unexported_entry(entry: &str, kind: ObjectKind) -> String {
    let fix = match (entry, kind) {
        ("main", ObjectKind::Pie) => {
            "link the program with `-rdynamic` (pipcc does; a plain `cc` build does not)"
        }
        ("main", ObjectKind::SharedObject) => "define `main` without `static` and do not hide it",
        _ => "define the start function without `static` (and link a program with `-rdynamic`)",
    };
    format!(
        "`{entry}` is not exported (only the symbol table has it; PiP's pip-check refuses such a file too): {fix}"
    )
}

/// The task verdict of a file the loader accepts: its entry, its ABI block, its copy
/// relocations, and the notes on how it will run.
fn task_verdict_of(
    info: &TaskFileInfo,
    facts: &ElfFacts,
    entry: &str,
    notes: &mut Vec<String>,
) -> Result<TaskOk, String> {
    let sym = info.entry(entry).map_err(|e| e.to_string())?;
    if info.is_pip_rs_task {
        match &info.task_abi {
            Some(abi) => abi.check()?,
            None => {
                return Err(format!(
                    "the task exports {ATTACH_SYMBOL} but its ABI block {TASK_INFO_SYMBOL} cannot be read; rebuild it with pip-core"
                ))
            }
        }
    }
    // Copy relocations are checked against this process's global scope (a root's, or the
    // tool's: libc and the libraries of Rust's runtime).
    info.check_copy_relocations(false)
        .map_err(|e| e.to_string())?;
    let mut isolation = vec![Isolation::SharedLibc];
    match info.check_copy_relocations(true) {
        Ok(()) => isolation.push(Isolation::Namespace),
        Err(e) => notes.push(format!("not with namespace isolation: {e}")),
    }
    if !sym.exported {
        // pip-core could start it from the symbol table (as PiP 2.4 does), but PiP's pip-check
        // says such a file is not a task and PiP v2.0's pip_spawn refuses it (ENOEXEC); scripts
        // built on PiP check for that (`pip-check` of a plain `cc` build must fail). So both
        // pip-check and pip-exec (which reads this sheet) refuse it, with the fix.
        return Err(unexported_entry(entry, info.kind));
    }
    if info.kind == ObjectKind::Pie {
        notes.push("a PIE is loaded from an in-memory copy with DF_1_PIE cleared; the file itself is never modified".into());
    }
    if info.static_tls {
        let tls_size = facts.tls_size.unwrap_or(0);
        notes.push(format!(
            "uses initial-exec thread-locals (DF_STATIC_TLS): every copy takes {tls_size} bytes of glibc's static TLS reserve (a little over 1.5 KiB by default, so roughly {} copies); raise it with GLIBC_TUNABLES=glibc.rtld.optional_static_tls=BYTES, or build without -ftls-model=initial-exec",
            1536 / tls_size.max(1)
        ));
    }
    if !info.is_pip_rs_task {
        notes.push("with shared-libc isolation, stdio, malloc and `environ` are shared with the other tasks (getenv sees the root's environment; main's third argument is the task's)".into());
    }
    Ok(TaskOk {
        isolation,
        entry_exported: sym.exported,
        static_tls: info.static_tls,
    })
}

const ROOT_EXIT_HINT: &str = "link the root with `-Wl,--export-dynamic-symbol=exit` (Rust: `cargo:rustc-link-arg-bins=-Wl,--export-dynamic-symbol=exit` from build.rs) so that a task's exit() ends only that task";

/// Can a file of this kind, with these facts, be a root?
fn root_verdict_of(
    kind: FileKind,
    facts: &ElfFacts,
    notes: &mut Vec<String>,
) -> Result<String, String> {
    match kind {
        FileKind::SharedObject if !facts.interp || facts.soname => {
            return Err(
                "a shared object is not a program: a root is an executable (that links pip-core)"
                    .into(),
            )
        }
        FileKind::SharedObject | FileKind::Pie | FileKind::Executable => {}
        FileKind::StaticExecutable => {
            return Err(
                "a statically linked executable cannot load tasks: link the root dynamically"
                    .into(),
            )
        }
        other => return Err(format!("a {} is not a program", other.describe())),
    }
    if !facts.exports_exit {
        // A C program linked with libpip.so (pipcc's output): the library holds the root and
        // defines the `exit` that tasks bind to, provided it comes before libc in the lookup
        // order.
        let pos = |name: &str| facts.needed.iter().position(|n| n.starts_with(name));
        match (pos("libpip.so"), pos("libc.so")) {
            (Some(pip), Some(c)) if pip > c => return Err("it links libpip.so after libc, so tasks would call libc's `exit` (which ends the whole process): link with -lpip before libc, as pipcc does".into()),
            (Some(_), _) => return Ok("a program linked with libpip.so (the PiP C API), which provides the root and the `exit` that tasks call".into()),
            _ => {}
        }
        return Err(format!("it does not export `exit`: {ROOT_EXIT_HINT}"));
    }
    if facts.links_pip_core {
        Ok("an executable that links pip-core and exports `exit`".into())
    } else if facts.symtab {
        Err("it exports `exit` but does not contain pip-core: a root is a program that links pip-core and calls `Root::init` (or pip-exec, which runs tasks for you)".into())
    } else {
        notes.push("the file is stripped, so whether it links pip-core cannot be told".into());
        Ok("an executable that exports `exit`".into())
    }
}

/// A verdict in JSON: `{"ok":true, ...the value's fields}` or `{"ok":false,"error":"..."}`.
#[derive(Serialize)]
struct Verdict<'a, T: Serialize> {
    ok: bool,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    value: Option<&'a T>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
}

impl<'a, T: Serialize> Verdict<'a, T> {
    fn of(v: &'a Result<T, String>) -> Self {
        Verdict {
            ok: v.is_ok(),
            value: v.as_ref().ok(),
            error: v.as_ref().err().map(String::as_str),
        }
    }
}

fn task_verdict<S: Serializer>(v: &Result<TaskOk, String>, s: S) -> Result<S::Ok, S::Error> {
    Verdict::of(v).serialize(s)
}

fn root_verdict<S: Serializer>(v: &Result<String, String>, s: S) -> Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    struct How {
        how: String,
    }
    Verdict::of(&v.clone().map(|how| How { how })).serialize(s)
}

fn isolation_names<S: Serializer>(levels: &[Isolation], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(levels.iter().map(|i| i.as_str()))
}
