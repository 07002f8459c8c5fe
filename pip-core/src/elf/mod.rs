//! Can this file be a task? ELF checks done before anything is loaded.
//!
//! A task is a shared object with an exported entry point (see `docs/architecture.md`). Before a
//! program is loaded, [`inspect`] reads its ELF headers and refuses, with an error that says how
//! to build the file properly, everything the loader cannot run as a task:
//!
//! * a missing or unreadable file, one that is not a regular file (a FIFO, a device), one larger
//!   than [`MAX_TASK_FILE_SIZE`], one on a `noexec` mount (see [`read_task_file`]);
//! * a non-ELF file, or one built for another architecture;
//! * a program built against another MPI: a `DT_NEEDED` entry that is MPICH's or Open MPI's
//!   library (`libmpi.so.12`, `libmpi.so.40`...) rather than pip-rs's own `libmpi.so` (see
//!   `mpi.rs`, [`ForeignMpi`]): loaded as a task it would run as a world of one;
//! * an `ET_EXEC` (non-PIE) executable or a relocatable object;
//! * a PIE executable with thread-locals: executables use the local-exec TLS model, whose
//!   accesses (`%fs:-N`) would alias the root's thread-local block once the file is loaded with
//!   `dlopen`. Every Rust executable is such a file;
//! * a file whose entry symbol is missing (checked by [`TaskFileInfo::entry`]);
//! * a PIE with copy relocations that glibc would fill with zeroes once the file is loaded as a
//!   task (checked at load by [`TaskFileInfo::check_copy_relocations`]).
//!
//! The loader then works on an in-memory copy: for a PIE it clears `DF_1_PIE` at
//! [`TaskFileInfo::pie_flag_offset`] in that copy (glibc refuses to `dlopen` a PIE), never in the
//! user's file.
//!
//! Files by role: `file.rs` reads a task file (refusing special files first), `parse.rs` reads
//! every ELF fact in one pass, this module decides what the loader can run, `sheet.rs` makes
//! the fact sheet `pip-check` prints ([`fact_sheet`]) from the same facts, `mpi.rs` recognises
//! another MPI's library, `error.rs` holds the refusals.

mod error;
mod file;
mod mpi;
mod parse;
mod sheet;

pub use error::{TaskFileError, TaskFileRefused};
pub use file::{check_task_file_metadata, read_task_file, MAX_TASK_FILE_SIZE};
pub use mpi::ForeignMpi;
pub use sheet::{fact_sheet, FactSheet, FileKind, Language, TaskOk};

use object::elf;
use parse::ElfFacts;
use std::path::Path;

/// The usual name of an ELF machine number, for messages.
pub fn machine_name(machine: u16) -> &'static str {
    match machine {
        elf::EM_X86_64 => "x86-64",
        elf::EM_386 => "i386",
        elf::EM_AARCH64 => "AArch64",
        elf::EM_ARM => "32-bit Arm",
        elf::EM_RISCV => "RISC-V",
        elf::EM_PPC64 => "PowerPC64",
        elf::EM_PPC => "PowerPC",
        elf::EM_S390 => "s390",
        elf::EM_MIPS => "MIPS",
        elf::EM_LOONGARCH => "LoongArch",
        elf::EM_SPARCV9 => "SPARC V9",
        _ => "an unknown machine",
    }
}

/// The ELF machine this build of pip-core loads tasks for.
#[cfg(target_arch = "x86_64")]
const HOST_MACHINE: u16 = elf::EM_X86_64;
#[cfg(target_arch = "aarch64")]
const HOST_MACHINE: u16 = elf::EM_AARCH64;

/// The relocation type with which an executable takes its own copy of a library's data.
#[cfg(target_arch = "x86_64")]
const R_COPY: u32 = elf::R_X86_64_COPY;
#[cfg(target_arch = "aarch64")]
const R_COPY: u32 = elf::R_AARCH64_COPY;

/// The symbol a Rust task built with [`task_main!`](crate::task_main) exports so that the root
/// can hand it its context; its presence marks a pip-rs task.
pub const ATTACH_SYMBOL: &str = "pip_rs_task_attach";

/// What kind of loadable object a file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectKind {
    /// A shared object (`-shared -fPIC`, or a Rust cdylib).
    SharedObject,
    /// A position-independent executable (`DF_1_PIE`); loaded from a copy with the flag cleared.
    Pie,
}

/// A symbol defined by the file, as found in its symbol tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SymbolInfo {
    /// The symbol's value (its address relative to the load base).
    pub value: u64,
    /// True when the symbol is in `.dynsym` (so `dlsym` finds it); false when only `.symtab`
    /// has it (a `static` function, or a PIE linked without `-rdynamic`).
    pub exported: bool,
    /// True for functions (`STT_FUNC`).
    pub function: bool,
}

/// Everything the loader and `pip-check` need to know about a task file.
#[derive(Debug, Clone)]
pub struct TaskFileInfo {
    /// Shared object or PIE.
    pub kind: ObjectKind,
    /// File offset of the `DT_FLAGS_1` value to patch in the in-memory copy of a PIE.
    pub pie_flag_offset: Option<usize>,
    /// The file has a `PT_TLS` segment (thread-locals).
    pub has_tls: bool,
    /// `DF_STATIC_TLS`: the object uses initial-exec TLS, so every copy takes static TLS space.
    pub static_tls: bool,
    /// The file exports [`ATTACH_SYMBOL`]: a Rust task built with pip-core.
    pub is_pip_rs_task: bool,
    /// A Rust task's ABI block, read from the file (see [`crate::abi::TaskAbiInfo`]).
    pub task_abi: Option<crate::abi::TaskAbiInfo>,
    /// `DT_NEEDED` entries.
    pub needed: Vec<String>,
    /// The symbols of the file's copy relocations (an executable's own copies of library data).
    pub copy_relocations: Vec<String>,
    /// Where the last byte the loader maps (`PT_LOAD`) ends in the file: everything after it
    /// (section headers, `.symtab`, debug info) is not needed to load the file.
    pub load_end: usize,
    /// The facts of the read this was decided from (for the fact sheet).
    facts: ElfFacts,
}

impl TaskFileInfo {
    /// Looks up a defined symbol (in `.dynsym` first, then `.symtab`).
    pub fn symbol(&self, name: &str) -> Option<SymbolInfo> {
        self.facts.symbols.get(name).copied()
    }

    /// Checks that glibc can fill this file's copy relocations once it is loaded as a task, in
    /// this process (a root), with namespace isolation or not.
    ///
    /// For an executable that the system starts, glibc fills a copy relocation from the library
    /// that defines the symbol. For a file loaded with `dlopen` it looks the symbol up in the
    /// root's global scope (the root and the libraries it was linked with) and then in the task's
    /// own scope, where the task itself comes first and matches: the copy is then filled from
    /// itself, i.e. stays zero (a C++ `typeinfo`, libc's `stdout`). So with shared-libc
    /// isolation every symbol must be in the root's global scope (libc's are, libstdc++'s are not
    /// unless the root links it); a link namespace of its own (namespace isolation) has no such
    /// scope, so no copy relocation works there.
    pub fn check_copy_relocations(&self, namespace: bool) -> Result<(), TaskFileError> {
        let missing: Vec<&str> = self
            .copy_relocations
            .iter()
            .map(String::as_str)
            .filter(|name| {
                namespace || {
                    let Ok(c) = std::ffi::CString::new(*name) else {
                        return true;
                    };
                    // SAFETY: dlsym with RTLD_DEFAULT and a valid NUL-terminated name only
                    // looks the name up in the global scope.
                    unsafe { libc::dlsym(libc::RTLD_DEFAULT, c.as_ptr()) }.is_null()
                }
            })
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        let mut symbols = missing
            .iter()
            .take(3)
            .map(|n| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(", ");
        if missing.len() > 3 {
            symbols.push_str(&format!(" and {} more", missing.len() - 3));
        }
        Err(TaskFileError::CopyRelocations {
            symbols,
            why: if namespace {
                "a task in namespace isolation has no executable's scope to copy them from"
            } else {
                "the root does not load the libraries that define them (only data of libraries the root itself links, such as libc's, can be copied)"
            },
        })
    }

    /// Checks that `symbol` can serve as the entry point, and says why not.
    ///
    /// A function found only in `.symtab` (a `static` C function) is accepted, as PiP 2.4 does:
    /// the loader computes its address from the load base.
    pub fn entry(&self, symbol: &str) -> Result<SymbolInfo, TaskFileError> {
        match self.facts.symbols.get(symbol) {
            Some(s) if s.function => Ok(*s),
            Some(_) => Err(TaskFileError::NoEntry {
                symbol: symbol.to_string(),
                hint: " as a function (it names data)",
            }),
            None => Err(TaskFileError::NoEntry {
                symbol: symbol.to_string(),
                hint: if symbol == "main" {
                    match self.kind {
                        ObjectKind::Pie => ": link the program with `-rdynamic` so that `main` is exported",
                        ObjectKind::SharedObject => ": a C task must define `int main(int, char **)`; a Rust task must use `pip_core::task_main!`",
                    }
                } else {
                    ": define it as `int NAME(void *arg)` (C) or with `pip_core::task_function!` (Rust), and export it"
                },
            }),
        }
    }
}

/// Reads and checks a task file. See the module docs for what is refused.
///
/// ```
/// let err = pip_core::elf::inspect("/etc/hostname".as_ref()).unwrap_err();
/// assert!(err.to_string().contains("not an ELF file"));
/// ```
pub fn inspect(path: &Path) -> Result<(Vec<u8>, TaskFileInfo), TaskFileRefused> {
    let refuse = |reason| TaskFileRefused {
        path: path.to_path_buf(),
        reason,
    };
    let data = read_task_file(path).map_err(refuse)?;
    let info = inspect_bytes(&data).map_err(refuse)?;
    Ok((data, info))
}

/// Checks an ELF image held in memory. See [`inspect`].
pub fn inspect_bytes(data: &[u8]) -> Result<TaskFileInfo, TaskFileError> {
    TaskFileInfo::from_facts(ElfFacts::read(data)?)
}

impl TaskFileInfo {
    /// Decides from the facts of one read whether the loader can run the file as a task.
    fn from_facts(facts: ElfFacts) -> Result<TaskFileInfo, TaskFileError> {
        match TaskFileInfo::refusal(&facts) {
            Some(e) => Err(e),
            None => Ok(TaskFileInfo::from_checked_facts(facts)),
        }
    }

    /// Why the loader cannot run a file with these facts as a task, if it cannot (its entry
    /// and copy relocations are checked later, by [`TaskFileInfo::entry`] and
    /// [`TaskFileInfo::check_copy_relocations`]).
    fn refusal(facts: &ElfFacts) -> Option<TaskFileError> {
        // First: whatever else is wrong with it, rebuilding with pip-rs's mpicc fixes it too.
        if let Some(mpi) = facts.foreign_mpi() {
            return Some(TaskFileError::ForeignMpi {
                library: mpi.library,
                implementation: mpi.implementation,
            });
        }
        match facts.e_type {
            elf::ET_DYN => {}
            elf::ET_EXEC => return Some(TaskFileError::NotDynamic),
            other => return Some(TaskFileError::NotLoadable(other)),
        }
        if facts.tls_size.is_some() && facts.is_executable() {
            return Some(TaskFileError::LocalExecTls {
                hint: if facts.rust {
                    "Rust executables always have such thread-locals: build the program as a library with `[lib] crate-type = [\"cdylib\"]` and mark its entry with `pip_core::task_main!`"
                } else {
                    "Build it as a shared object instead: `cc -shared -fPIC -o prog.so prog.c` (main stays exported)"
                },
            });
        }
        None
    }

    /// The loader's view of facts that [`TaskFileInfo::refusal`] found nothing against.
    fn from_checked_facts(facts: ElfFacts) -> TaskFileInfo {
        TaskFileInfo {
            kind: if facts.pie_flag_offset.is_some() {
                ObjectKind::Pie
            } else {
                ObjectKind::SharedObject
            },
            pie_flag_offset: facts.pie_flag_offset,
            has_tls: facts.tls_size.is_some(),
            static_tls: facts.static_tls,
            is_pip_rs_task: facts.is_pip_rs_task(),
            task_abi: facts.task_abi,
            needed: facts.needed.clone(),
            copy_relocations: facts.copy_relocations.clone(),
            load_end: facts.load_end,
            facts,
        }
    }
}

#[cfg(test)]
mod tests;
