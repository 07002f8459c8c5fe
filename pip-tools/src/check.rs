//! `pip-check`: can a file be a PiP task, or a PiP root, and if not, why not.
//!
//! The task check is pip-core's own ([`pip_core::elf::inspect_bytes`] and
//! [`TaskFileInfo::entry`]), so `pip-check` refuses exactly what `pip-exec` and
//! [`Root::spawn`](pip_core::Root::spawn) refuse, with the same messages. On top of it this module
//! reads a few more ELF facts that only the tool needs: what kind of file it is, the pip-core ABI
//! version a Rust task was built with, the size of its thread-local block, and whether an
//! executable exports `exit` (which a root must do, so that a task's `exit()` ends only that
//! task).
//!
//! ```no_run
//! use pip_tools::check::{check_file, Want};
//! let report = check_file("target/debug/examples/libhello.so".as_ref(), "main");
//! assert!(report.passes(Want::Task));
//! print!("{}", report.to_text(Want::Either));
//! ```

use object::elf;
use object::read::elf::{Dyn, FileHeader, ProgramHeader, Sym};
use object::Endianness;
use pip_core::abi::{TaskAbiInfo, TASK_INFO_SYMBOL};
use pip_core::elf::{ObjectKind, TaskFileError, TaskFileInfo, ATTACH_SYMBOL};
use pip_core::Isolation;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// What kind of file was checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
    /// A short machine-readable name (used in the JSON output).
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
}

/// What the program was written in, as far as its symbols tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    /// A Rust task built with pip-core's `task_main!` (it exports `pip_rs_task_attach`).
    PipRsTask {
        /// The pip-core ABI version the task was built with, when it could be read.
        abi_version: Option<u32>,
    },
    /// Rust, without pip-core's task support.
    Rust,
    /// C (or C++, Fortran...: anything without Rust's symbols).
    C,
    /// Unknown (the file is not a readable ELF file).
    Unknown,
}

impl Language {
    /// A short machine-readable name (used in the JSON output).
    pub fn id(self) -> &'static str {
        match self {
            Language::PipRsTask { .. } => "rust-pip-task",
            Language::Rust => "rust",
            Language::C => "c",
            Language::Unknown => "unknown",
        }
    }
}

/// Why a file cannot be a task, or how it can.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskOk {
    /// The isolation levels the task can run under (both, unless copy relocations rule out
    /// namespace isolation; the notes say what limits them).
    pub isolation: Vec<Isolation>,
    /// The entry is in `.dynsym` (`dlsym` finds it); false when only `.symtab` has it.
    pub entry_exported: bool,
    /// Every copy takes static TLS space, which limits the number of copies.
    pub static_tls: bool,
}

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

/// The verdict on one file.
#[derive(Debug, Clone)]
pub struct Report {
    /// The file, as given.
    pub path: PathBuf,
    /// What kind of file it is.
    pub kind: FileKind,
    /// What it was written in.
    pub language: Language,
    /// The entry symbol checked (`main`, or the `-f` function).
    pub entry: String,
    /// `Ok` when the file can be a task; `Err` says why not and how to build it.
    pub task: Result<TaskOk, String>,
    /// `Ok` (how) when the file can be a root; `Err` says why not and how to fix it.
    pub root: Result<String, String>,
    /// Things worth knowing that do not stop the file from being used.
    pub notes: Vec<String>,
    /// The file defines `main` (exported or not).
    pub has_main: bool,
}

/// Facts about an ELF file read here (independently of pip-core's task check, which refuses
/// some files before telling us everything a tool wants to say about them).
#[derive(Default)]
struct ElfFacts {
    e_type: u16,
    pie: bool,
    interp: bool,
    dynamic: bool,
    soname: bool,
    main: bool,
    tls_size: u64,
    exports_exit: bool,
    rust: bool,
    pip_core: bool,
    symtab: bool,
    pip_task: bool,
    abi: Option<TaskAbiInfo>,
    /// `DT_NEEDED` entries, in order.
    needed: Vec<String>,
}

/// Reads the facts of a file that pip-core's [`inspect_bytes`](pip_core::elf::inspect_bytes)
/// found to be a 64-bit ELF file for this machine (or refused for its contents).
fn elf_facts(data: &[u8]) -> Option<ElfFacts> {
    let header = elf::FileHeader64::<Endianness>::parse(data).ok()?;
    let endian = header.endian().ok()?;
    let mut f = ElfFacts {
        e_type: header.e_type(endian),
        ..ElfFacts::default()
    };
    let phdrs = header.program_headers(endian, data).ok()?;
    for p in phdrs {
        match p.p_type(endian) {
            elf::PT_INTERP => f.interp = true,
            elf::PT_DYNAMIC => {
                f.dynamic = true;
                if let Ok(Some(entries)) = p.dynamic(endian, data) {
                    for d in entries {
                        let tag = d.d_tag(endian) as u32;
                        if tag == elf::DT_NULL {
                            break;
                        }
                        if tag == elf::DT_FLAGS_1 && d.d_val(endian) & u64::from(elf::DF_1_PIE) != 0
                        {
                            f.pie = true;
                        }
                        if tag == elf::DT_SONAME {
                            f.soname = true;
                        }
                    }
                }
            }
            elf::PT_TLS => f.tls_size = p.p_memsz(endian),
            _ => {}
        }
    }
    let sections = header.sections(endian, data).ok()?;
    if let Ok(Some((entries, link))) = sections.dynamic(endian, data) {
        if let Ok(strings) = sections.strings(endian, data, link) {
            for d in entries {
                if d.d_tag(endian) as u32 == elf::DT_NEEDED {
                    if let Ok(name) = strings.get(d.d_val(endian) as u32) {
                        f.needed.push(String::from_utf8_lossy(name).into_owned());
                    }
                }
            }
        }
    }
    let mut abi_addr = None;
    for (sh_type, dynamic) in [(elf::SHT_DYNSYM, true), (elf::SHT_SYMTAB, false)] {
        let Ok(table) = sections.symbols(endian, data, sh_type) else {
            continue;
        };
        if !dynamic && !table.is_empty() {
            f.symtab = true;
        }
        for sym in table.iter() {
            if sym.st_shndx(endian) == elf::SHN_UNDEF {
                continue;
            }
            let Ok(name) = table.symbol_name(endian, sym) else {
                continue;
            };
            if name.starts_with(b"_ZN3std")
                || name.starts_with(b"_ZN4core")
                || name.starts_with(b"_RNv")
                || name == b"rust_begin_unwind"
                || name == b"__rust_alloc"
                || name == b"rust_eh_personality"
            {
                f.rust = true;
            }
            if name == b"main" {
                f.main = true;
            }
            if contains(name, b"8pip_core") {
                f.pip_core = true;
            }
            if dynamic {
                match name {
                    b"exit" => f.exports_exit = true,
                    n if n == ATTACH_SYMBOL.as_bytes() => f.pip_task = true,
                    n if n == TASK_INFO_SYMBOL.as_bytes() => abi_addr = Some(sym.st_value(endian)),
                    _ => {}
                }
            }
        }
    }
    // A stripped Rust program still holds the source paths of its standard library's panic
    // locations.
    if !f.rust && !f.symtab && contains(data, b"/rustc/") {
        f.rust = true;
    }
    if let Some(addr) = abi_addr {
        f.abi = read_abi_info(data, phdrs, endian, addr);
    }
    Some(f)
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// Reads a task's [`TaskAbiInfo`] from the file: maps its address to a file offset through the
/// `PT_LOAD` segment that holds it. The struct is plain integers, so the file bytes are its
/// value (no relocation applies).
fn read_abi_info(
    data: &[u8],
    phdrs: &[elf::ProgramHeader64<Endianness>],
    endian: Endianness,
    addr: u64,
) -> Option<TaskAbiInfo> {
    const SIZE: u64 = std::mem::size_of::<TaskAbiInfo>() as u64;
    let end = addr.checked_add(SIZE)?;
    let seg = phdrs.iter().find(|p| {
        let start = p.p_vaddr(endian);
        p.p_type(endian) == elf::PT_LOAD
            && addr >= start
            && start
                .checked_add(p.p_filesz(endian))
                .is_some_and(|seg_end| end <= seg_end)
    })?;
    let off = seg
        .p_offset(endian)
        .checked_add(addr - seg.p_vaddr(endian))?;
    let off = usize::try_from(off).ok()?;
    let b = data.get(off..off.checked_add(SIZE as usize)?)?;
    let u32_at = |i: usize| u32::from_le_bytes(b[i..i + 4].try_into().unwrap());
    Some(TaskAbiInfo {
        magic: u64::from_le_bytes(b[0..8].try_into().unwrap()),
        version: u32_at(8),
        root_size: u32_at(12),
        ops_size: u32_at(16),
        reserved: u32_at(20),
    })
}

const ROOT_EXIT_HINT: &str = "link the root with `-Wl,--export-dynamic-symbol=exit` (Rust: `cargo:rustc-link-arg-bins=-Wl,--export-dynamic-symbol=exit` from build.rs) so that a task's exit() ends only that task";

/// Checks one file: can it be a task starting at `entry` (`main`, or a `-f` function), can it
/// be a root.
pub fn check_file(path: &Path, entry: &str) -> Report {
    let mut report = Report {
        path: path.to_path_buf(),
        kind: FileKind::Unreadable,
        language: Language::Unknown,
        entry: entry.to_string(),
        task: Err(String::new()),
        root: Err(String::new()),
        notes: Vec::new(),
        has_main: false,
    };
    // pip-core's own reader: refuses FIFOs, devices, huge files and noexec mounts before
    // reading, with the messages pip-exec gives.
    let data = match pip_core::elf::read_task_file(path) {
        Ok(d) => d,
        Err(err) => {
            report.task = Err(err.to_string());
            report.root = Err(err.to_string());
            return report;
        }
    };
    let checked = pip_core::elf::inspect_bytes(&data);
    let facts = match &checked {
        Err(
            e @ (TaskFileError::NotElf
            | TaskFileError::WrongClass
            | TaskFileError::WrongArchitecture { .. }
            | TaskFileError::Malformed(_)),
        ) => {
            report.kind = FileKind::Foreign;
            report.task = Err(e.to_string());
            report.root = Err(match e {
                TaskFileError::NotElf => "not an ELF file".to_string(),
                other => other.to_string(),
            });
            return report;
        }
        _ => elf_facts(&data).unwrap_or_default(),
    };

    report.kind = match facts.e_type {
        elf::ET_DYN if facts.pie => FileKind::Pie,
        elf::ET_DYN => FileKind::SharedObject,
        elf::ET_EXEC if facts.dynamic => FileKind::Executable,
        elf::ET_EXEC => FileKind::StaticExecutable,
        elf::ET_REL => FileKind::Relocatable,
        _ => FileKind::OtherElf,
    };
    report.has_main = facts.main;
    report.language = if facts.pip_task {
        Language::PipRsTask {
            abi_version: facts.abi.as_ref().map(|a| a.version),
        }
    } else if facts.rust {
        Language::Rust
    } else {
        Language::C
    };

    report.task = match checked {
        Ok(info) => task_verdict(&info, &facts, entry, &mut report.notes),
        Err(e) => Err(e.to_string()),
    };
    report.root = root_verdict(report.kind, &facts, &mut report.notes);
    report
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

fn task_verdict(
    info: &TaskFileInfo,
    facts: &ElfFacts,
    entry: &str,
    notes: &mut Vec<String>,
) -> Result<TaskOk, String> {
    let sym = info.entry(entry).map_err(|e| e.to_string())?;
    if info.is_pip_rs_task {
        match &facts.abi {
            Some(abi) => abi.check()?,
            None => {
                return Err(format!(
                    "the task exports {ATTACH_SYMBOL} but its ABI block {TASK_INFO_SYMBOL} cannot be read; rebuild it with pip-core"
                ))
            }
        }
    }
    // Copy relocations are checked against this process's global scope, which is pip-exec's
    // (libc and the libraries of Rust's runtime), so the answer is pip-exec's.
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
        // pip-check and pip-exec (which runs this check) refuse it, with the fix.
        return Err(unexported_entry(entry, info.kind));
    }
    if info.kind == ObjectKind::Pie {
        notes.push("a PIE is loaded from an in-memory copy with DF_1_PIE cleared; the file itself is never modified".into());
    }
    if info.static_tls {
        notes.push(format!(
            "uses initial-exec thread-locals (DF_STATIC_TLS): every copy takes {} bytes of glibc's static TLS reserve (a little over 1.5 KiB by default, so roughly {} copies); raise it with GLIBC_TUNABLES=glibc.rtld.optional_static_tls=BYTES, or build without -ftls-model=initial-exec",
            facts.tls_size,
            1536 / facts.tls_size.max(1)
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

fn root_verdict(
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
    if facts.pip_core {
        Ok("an executable that links pip-core and exports `exit`".into())
    } else if facts.symtab {
        Err("it exports `exit` but does not contain pip-core: a root is a program that links pip-core and calls `Root::init` (or pip-exec, which runs tasks for you)".into())
    } else {
        notes.push("the file is stripped, so whether it links pip-core cannot be told".into());
        Ok("an executable that exports `exit`".into())
    }
}

impl Report {
    /// Can the file be a task?
    pub fn is_task(&self) -> bool {
        self.task.is_ok()
    }

    /// Can the file be a root?
    pub fn is_root(&self) -> bool {
        self.root.is_ok()
    }

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
        let lang = match self.language {
            Language::PipRsTask {
                abi_version: Some(v),
            } => format!("Rust pip-rs task (pip-core ABI v{v})"),
            Language::PipRsTask { abi_version: None } => {
                "Rust pip-rs task (pip-core ABI unreadable)".into()
            }
            Language::Rust => "Rust".into(),
            Language::C => "C".into(),
            Language::Unknown => return self.kind.describe().into(),
        };
        match (self.language, self.kind) {
            (Language::C, FileKind::SharedObject) if self.has_main => {
                "C program built as a shared object".into()
            }
            (Language::C, FileKind::SharedObject) => "C shared object".into(),
            (Language::C, FileKind::Pie) => "C program built as a PIE".into(),
            (Language::C, FileKind::Executable) => "C program built as a non-PIE executable".into(),
            (Language::Rust, FileKind::SharedObject) => {
                "Rust shared object (not a pip-rs task)".into()
            }
            (Language::Rust, FileKind::Pie | FileKind::Executable) => "Rust executable".into(),
            (_, kind) => format!("{lang}, {}", kind.describe()),
        }
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

    /// The report as a JSON object.
    pub fn to_json(&self, want: Want) -> String {
        let mut s = String::from("{");
        let _ = write!(s, "\"file\":{}", json_str(&self.path.display().to_string()));
        let _ = write!(s, ",\"pass\":{}", self.passes(want));
        let _ = write!(s, ",\"kind\":{}", json_str(self.kind.id()));
        let _ = write!(s, ",\"language\":{}", json_str(self.language.id()));
        if let Language::PipRsTask {
            abi_version: Some(v),
        } = self.language
        {
            let _ = write!(s, ",\"abi_version\":{v}");
        }
        let _ = write!(s, ",\"description\":{}", json_str(&self.describe_kind()));
        let _ = write!(s, ",\"entry\":{}", json_str(&self.entry));
        match &self.task {
            Ok(ok) => {
                let levels: Vec<String> =
                    ok.isolation.iter().map(|i| json_str(i.as_str())).collect();
                let _ = write!(
                    s,
                    ",\"task\":{{\"ok\":true,\"isolation\":[{}],\"entry_exported\":{}}}",
                    levels.join(","),
                    ok.entry_exported
                );
            }
            Err(e) => {
                let _ = write!(s, ",\"task\":{{\"ok\":false,\"error\":{}}}", json_str(e));
            }
        }
        match &self.root {
            Ok(how) => {
                let _ = write!(s, ",\"root\":{{\"ok\":true,\"how\":{}}}", json_str(how));
            }
            Err(e) => {
                let _ = write!(s, ",\"root\":{{\"ok\":false,\"error\":{}}}", json_str(e));
            }
        }
        let notes: Vec<String> = self.notes.iter().map(|n| json_str(n)).collect();
        let _ = write!(s, ",\"notes\":[{}]}}", notes.join(","));
        s
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
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_executable_is_a_rust_executable_not_a_task() {
        let r = check_file(&std::env::current_exe().unwrap(), "main");
        assert_eq!(r.language, Language::Rust);
        assert!(matches!(r.kind, FileKind::Pie | FileKind::Executable));
        let err = r.task.as_ref().unwrap_err();
        assert!(err.contains("cdylib"), "{err}");
        assert!(!r.passes(Want::Task));
    }

    #[test]
    fn missing_and_non_elf_files() {
        let r = check_file(Path::new("/nonexistent/x.so"), "main");
        assert_eq!(r.kind, FileKind::Unreadable);
        assert_eq!(r.task.as_ref().unwrap_err(), "no such file");
        assert!(!r.passes(Want::Either));
        let dir = std::env::temp_dir().join(format!("pip-check-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("script.sh");
        std::fs::write(&f, "#!/bin/sh\necho hi\n").unwrap();
        let r = check_file(&f, "main");
        assert_eq!(r.kind, FileKind::Foreign);
        assert!(r.task.as_ref().unwrap_err().contains("not an ELF file"));
        assert!(r.to_text(Want::Either).contains("NOT a task, NOT a root"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn verdicts() {
        let mut r = check_file(Path::new("/nonexistent"), "main");
        r.task = Ok(TaskOk {
            isolation: vec![Isolation::SharedLibc],
            entry_exported: true,
            static_tls: false,
        });
        assert_eq!(r.verdict(Want::Either), "task");
        assert_eq!(r.verdict(Want::Both), "task, NOT a root");
        assert_eq!(r.verdict(Want::Root), "NOT a root");
        assert!(r.passes(Want::Task) && !r.passes(Want::Both));
        assert_eq!(Want::from_flags(false, false, true), Want::Both);
        assert_eq!(Want::from_flags(true, true, false), Want::Both);
        assert_eq!(Want::from_flags(false, true, false), Want::Root);
    }

    #[test]
    fn json_is_well_formed_for_a_missing_file() {
        let r = check_file(Path::new("/nonexistent/\"q\".so"), "main");
        let j = r.to_json(Want::Task);
        assert!(
            j.starts_with("{\"file\":\"/nonexistent/\\\"q\\\".so\",\"pass\":false"),
            "{j}"
        );
        assert!(j.ends_with("\"notes\":[]}"), "{j}");
    }
}
