//! Can this file be a task? ELF checks done before anything is loaded.
//!
//! A task is a shared object with an exported entry point (see `docs/architecture.md`). Before a
//! program is loaded, [`inspect`] reads its ELF headers and refuses, with an error that says how
//! to build the file properly, everything the loader cannot run as a task:
//!
//! * a missing or unreadable file, one that is not a regular file (a FIFO, a device), one larger
//!   than [`MAX_TASK_FILE_SIZE`], one on a `noexec` mount (see [`read_task_file`]);
//! * a non-ELF file, or one built for another architecture;
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

use object::elf;
use object::read::elf::{Dyn, FileHeader, ProgramHeader, Sym};
use object::Endianness;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

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

/// Why a file cannot be a task. Each message says what is wrong and how to build the file.
#[derive(Debug, thiserror::Error)]
pub enum TaskFileError {
    /// The file does not exist.
    #[error("no such file")]
    Missing,
    /// The file exists but could not be read.
    #[error("cannot read the file: {0}")]
    Unreadable(#[source] std::io::Error),
    /// Not a regular file: a FIFO, a device, a directory, a socket.
    #[error("not a regular file but {0}: a task must be a shared object or PIE file")]
    NotRegularFile(&'static str),
    /// Larger than [`MAX_TASK_FILE_SIZE`].
    #[error("the file is larger than {} MiB (the largest task file pip-core reads); is it really a program?", MAX_TASK_FILE_SIZE >> 20)]
    TooLarge,
    /// The file is on a file system mounted `noexec`, where the dynamic loader refuses to map
    /// it too.
    #[error("the file is on a file system mounted noexec, where programs may not run (glibc's dlopen refuses it too): copy it to an executable file system, or remount this one without noexec")]
    NoExecMount,
    /// Not an ELF file at all (a script, text, an archive...).
    #[error("not an ELF file: a task must be a shared object (.so) built with `-shared -fPIC`, a PIE linked with `-rdynamic`, or a Rust cdylib")]
    NotElf,
    /// A 32-bit ELF file.
    #[error("a 32-bit ELF file: tasks must be 64-bit objects for this machine")]
    WrongClass,
    /// An ELF file for another machine.
    #[error("built for another architecture ({}, ELF machine {found}; this machine needs {}, {expected}); rebuild it for this machine", machine_name(*found), machine_name(*expected))]
    WrongArchitecture {
        /// The file's `e_machine`.
        found: u16,
        /// The host's `e_machine`.
        expected: u16,
    },
    /// An `ET_EXEC` executable: fixed addresses, cannot be loaded more than once.
    #[error("a non-PIE executable (ET_EXEC) cannot be loaded as a task: rebuild it with `cc -fPIE -pie -rdynamic` or as a shared object with `cc -shared -fPIC`")]
    NotDynamic,
    /// An object file or another non-loadable ELF type.
    #[error("ELF type {0} cannot be loaded: a task must be a shared object or a PIE")]
    NotLoadable(u16),
    /// A PIE with a `PT_TLS` segment: its thread-locals use the local-exec model.
    #[error("an executable with thread-local variables cannot be a task: executables use the local-exec TLS model, whose accesses would alias the root's thread-locals once loaded. {hint}")]
    LocalExecTls {
        /// How to rebuild the program (differs for Rust and C).
        hint: &'static str,
    },
    /// The entry symbol is not defined by the file.
    #[error("the entry symbol `{symbol}` is not defined in this file{hint}")]
    NoEntry {
        /// The symbol looked for (`main` or the function given with `-f`).
        symbol: String,
        /// How to fix it.
        hint: &'static str,
    },
    /// A PIE whose copy relocations glibc cannot fill once it is loaded as a task (see
    /// [`TaskFileInfo::check_copy_relocations`]).
    #[error("the program takes copies of data that shared libraries define ({symbols}: copy relocations, which code compiled with -fPIE, gcc's default, makes for a library's variables) and {why}; glibc would fill those copies from the program itself, with zeroes, and the task would crash (in a C++ throw, or on using `stdout`). Compile it with -fPIC instead (`cc -fPIC -pie -rdynamic`, as pipcc does), or build it as a shared object (`-shared -fPIC`)")]
    CopyRelocations {
        /// The first few symbols concerned.
        symbols: String,
        /// Why this root cannot provide them.
        why: &'static str,
    },
    /// The ELF headers are damaged.
    #[error("malformed ELF file: {0}")]
    Malformed(String),
}

/// A task file refused by [`inspect`], with its path.
#[derive(Debug, thiserror::Error)]
#[error("{}: {reason}", path.display())]
pub struct TaskFileRefused {
    /// The file that was checked.
    pub path: PathBuf,
    /// Why it cannot be a task.
    pub reason: TaskFileError,
}

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
    symbols: HashMap<String, SymbolInfo>,
}

impl TaskFileInfo {
    /// Looks up a defined symbol (in `.dynsym` first, then `.symtab`).
    pub fn symbol(&self, name: &str) -> Option<SymbolInfo> {
        self.symbols.get(name).copied()
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
        match self.symbols.get(symbol) {
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

/// The largest task file [`read_task_file`] reads (1 GiB): a bound, so that a special file
/// that never ends is refused instead of read until memory runs out.
pub const MAX_TASK_FILE_SIZE: u64 = 1 << 30;

/// What a file that is not a regular file is, in words.
fn file_type_name(t: std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if t.is_fifo() {
        "a FIFO (named pipe)"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_dir() {
        "a directory"
    } else if t.is_socket() {
        "a socket"
    } else {
        "a special file"
    }
}

/// Decides whether a file with this metadata, on a file system with these `statvfs` flags,
/// may be read as a task file: a regular file, at most [`MAX_TASK_FILE_SIZE`] bytes, not on
/// a `noexec` mount.
pub fn check_task_file_metadata(
    meta: &std::fs::Metadata,
    statvfs_flags: u64,
) -> Result<(), TaskFileError> {
    if !meta.file_type().is_file() {
        return Err(TaskFileError::NotRegularFile(file_type_name(
            meta.file_type(),
        )));
    }
    if meta.len() > MAX_TASK_FILE_SIZE {
        return Err(TaskFileError::TooLarge);
    }
    if statvfs_flags & libc::ST_NOEXEC != 0 {
        return Err(TaskFileError::NoExecMount);
    }
    Ok(())
}

/// Reads a task file, refusing, before reading a byte, anything the dynamic loader would not
/// run: a file that is not a regular file (a FIFO would block the read forever, `/dev/zero`
/// would never end), one larger than [`MAX_TASK_FILE_SIZE`], or one on a `noexec` mount
/// (glibc's `dlopen` refuses those; the in-memory copy must not get around it).
///
/// ```
/// use pip_core::elf::{read_task_file, TaskFileError};
/// let err = read_task_file("/dev/zero".as_ref()).unwrap_err();
/// assert!(matches!(err, TaskFileError::NotRegularFile(_)), "{err}");
/// ```
pub fn read_task_file(path: &Path) -> Result<Vec<u8>, TaskFileError> {
    use std::io::Read;
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::OpenOptionsExt;
    let io_error = |e: std::io::Error| {
        if e.kind() == std::io::ErrorKind::NotFound {
            TaskFileError::Missing
        } else {
            TaskFileError::Unreadable(e)
        }
    };
    // stat first: opening a FIFO for reading blocks until a writer comes.
    let meta = std::fs::metadata(path).map_err(io_error)?;
    check_task_file_metadata(&meta, 0)?;
    // O_NONBLOCK, so that a file swapped for a FIFO after the stat cannot block the open
    // either; the checks are then repeated on what was opened.
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(io_error)?;
    let meta = file.metadata().map_err(io_error)?;
    // SAFETY: statvfs is plain data, filled in by fstatvfs on a descriptor we own.
    let mut vfs: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: a valid descriptor and a pointer to a statvfs struct.
    if unsafe { libc::fstatvfs(file.as_raw_fd(), &mut vfs) } != 0 {
        return Err(TaskFileError::Unreadable(std::io::Error::last_os_error()));
    }
    check_task_file_metadata(&meta, vfs.f_flag as u64)?;
    // The size given by stat is not a promise (procfs files say 0): bound the read itself.
    let mut data = Vec::with_capacity(meta.len() as usize);
    file.take(MAX_TASK_FILE_SIZE + 1)
        .read_to_end(&mut data)
        .map_err(io_error)?;
    if data.len() as u64 > MAX_TASK_FILE_SIZE {
        return Err(TaskFileError::TooLarge);
    }
    Ok(data)
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
    if data.len() < 16 || &data[..4] != b"\x7fELF" {
        return Err(TaskFileError::NotElf);
    }
    if data[4] != elf::ELFCLASS64 {
        return Err(TaskFileError::WrongClass);
    }
    let malformed = |e: object::read::Error| TaskFileError::Malformed(e.to_string());
    let header = elf::FileHeader64::<Endianness>::parse(data).map_err(malformed)?;
    let endian = header.endian().map_err(malformed)?;
    let machine = header.e_machine(endian);
    if machine != HOST_MACHINE {
        return Err(TaskFileError::WrongArchitecture {
            found: machine,
            expected: HOST_MACHINE,
        });
    }
    match header.e_type(endian) {
        elf::ET_DYN => {}
        elf::ET_EXEC => return Err(TaskFileError::NotDynamic),
        other => return Err(TaskFileError::NotLoadable(other)),
    }

    let phdrs = header.program_headers(endian, data).map_err(malformed)?;
    let has_tls = phdrs.iter().any(|p| p.p_type(endian) == elf::PT_TLS);
    let has_interp = phdrs.iter().any(|p| p.p_type(endian) == elf::PT_INTERP);
    let load_end = phdrs
        .iter()
        .filter(|p| p.p_type(endian) == elf::PT_LOAD)
        .map(|p| (p.p_offset(endian) + p.p_filesz(endian)) as usize)
        .max()
        .unwrap_or(data.len())
        .min(data.len());

    // Walk PT_DYNAMIC by file offset so that we know where DT_FLAGS_1 sits in the file.
    let mut pie_flag_offset = None;
    let mut static_tls = false;
    let mut needed_offsets = Vec::new();
    let mut strtab_addr = None;
    let mut has_soname = false;
    if let Some(dynamic) = phdrs.iter().find(|p| p.p_type(endian) == elf::PT_DYNAMIC) {
        let base = dynamic.p_offset(endian) as usize;
        let entries = dynamic
            .dynamic(endian, data)
            .map_err(malformed)?
            .unwrap_or(&[]);
        let entry_size = std::mem::size_of::<elf::Dyn64<Endianness>>();
        for (i, d) in entries.iter().enumerate() {
            let tag = d.d_tag(endian) as u32;
            let val = d.d_val(endian);
            match tag {
                elf::DT_NULL => break,
                elf::DT_FLAGS_1 if val & u64::from(elf::DF_1_PIE) != 0 => {
                    pie_flag_offset = Some(base + i * entry_size + 8);
                }
                elf::DT_FLAGS if val & u64::from(elf::DF_STATIC_TLS) != 0 => static_tls = true,
                elf::DT_NEEDED => needed_offsets.push(val),
                elf::DT_STRTAB => strtab_addr = Some(val),
                elf::DT_SONAME => has_soname = true,
                _ => {}
            }
        }
    }
    let kind = if pie_flag_offset.is_some() {
        ObjectKind::Pie
    } else {
        ObjectKind::SharedObject
    };

    let sections = header.sections(endian, data).map_err(malformed)?;
    let mut symbols = HashMap::new();
    for (sh_type, exported) in [(elf::SHT_DYNSYM, true), (elf::SHT_SYMTAB, false)] {
        let table = sections.symbols(endian, data, sh_type).map_err(malformed)?;
        for sym in table.iter() {
            if sym.st_shndx(endian) == elf::SHN_UNDEF || sym.st_value(endian) == 0 {
                continue;
            }
            let Ok(name) = table.symbol_name(endian, sym) else {
                continue;
            };
            let Ok(name) = std::str::from_utf8(name) else {
                continue;
            };
            if name.is_empty() {
                continue;
            }
            symbols.entry(name.to_string()).or_insert(SymbolInfo {
                value: sym.st_value(endian),
                exported,
                function: sym.st_type() == elf::STT_FUNC || sym.st_type() == elf::STT_GNU_IFUNC,
            });
        }
    }
    let is_pip_rs_task = symbols.get(ATTACH_SYMBOL).is_some_and(|s| s.exported);
    let task_abi = symbols.get(crate::abi::TASK_INFO_SYMBOL).and_then(|s| {
        let load = phdrs.iter().find(|p| {
            p.p_type(endian) == elf::PT_LOAD
                && (p.p_vaddr(endian)..p.p_vaddr(endian) + p.p_filesz(endian)).contains(&s.value)
        })?;
        let off = (s.value - load.p_vaddr(endian) + load.p_offset(endian)) as usize;
        let b = data.get(off..off + std::mem::size_of::<crate::abi::TaskAbiInfo>())?;
        let word = |i: usize| u32::from_le_bytes(b[i..i + 4].try_into().unwrap());
        Some(crate::abi::TaskAbiInfo {
            magic: u64::from_le_bytes(b[0..8].try_into().unwrap()),
            version: word(8),
            root_size: word(12),
            ops_size: word(16),
            reserved: word(20),
        })
    });

    // An executable: flagged PIE, or with an interpreter and no soname (libc.so.6 has an
    // interpreter too, so that it can be run, and a soname).
    let executable = kind == ObjectKind::Pie || (has_interp && !has_soname);
    if has_tls && executable {
        let rust = symbols
            .keys()
            .any(|n| n.starts_with("_ZN3std") || n.contains("rust_begin_unwind"))
            || symbols.contains_key("__rust_alloc");
        return Err(TaskFileError::LocalExecTls {
            hint: if rust {
                "Rust executables always have such thread-locals: build the program as a library with `[lib] crate-type = [\"cdylib\"]` and mark its entry with `pip_core::task_main!`"
            } else {
                "Build it as a shared object instead: `cc -shared -fPIC -o prog.so prog.c` (main stays exported)"
            },
        });
    }

    let needed = needed_names(data, &sections, endian, strtab_addr, &needed_offsets);
    let copy_relocations = if executable {
        copy_relocation_names(data, &sections, endian)
    } else {
        Vec::new()
    };
    Ok(TaskFileInfo {
        kind,
        pie_flag_offset,
        has_tls,
        static_tls,
        is_pip_rs_task,
        task_abi,
        needed,
        copy_relocations,
        load_end,
        symbols,
    })
}

/// The names of the symbols of every copy relocation in the file's relocation sections.
fn copy_relocation_names(
    data: &[u8],
    sections: &object::read::elf::SectionTable<elf::FileHeader64<Endianness>>,
    endian: Endianness,
) -> Vec<String> {
    use object::read::elf::SectionHeader;
    let mut names = Vec::new();
    for sec in sections.iter() {
        let Ok(Some((relas, link))) = sec.rela(endian, data) else {
            continue;
        };
        let Ok(table) = sections.symbol_table_by_index(endian, data, link) else {
            continue;
        };
        for r in relas.iter().filter(|r| r.r_type(endian, false) == R_COPY) {
            let index = object::SymbolIndex(r.r_sym(endian, false) as usize);
            if let Some(name) = table
                .symbol(index)
                .ok()
                .and_then(|sym| table.symbol_name(endian, sym).ok())
            {
                names.push(String::from_utf8_lossy(name).into_owned());
            }
        }
    }
    names
}

/// Resolves `DT_NEEDED` string offsets through `.dynstr` (found as the section whose address is
/// `DT_STRTAB`).
fn needed_names(
    data: &[u8],
    sections: &object::read::elf::SectionTable<elf::FileHeader64<Endianness>>,
    endian: Endianness,
    strtab_addr: Option<u64>,
    offsets: &[u64],
) -> Vec<String> {
    use object::read::elf::SectionHeader;
    let Some(addr) = strtab_addr else {
        return Vec::new();
    };
    let Some(sec) = sections.iter().find(|s| s.sh_addr(endian) == addr) else {
        return Vec::new();
    };
    let Ok(bytes) = sec.data(endian, data) else {
        return Vec::new();
    };
    offsets
        .iter()
        .filter_map(|&o| {
            let rest = bytes.get(o as usize..)?;
            let end = rest.iter().position(|&b| b == 0)?;
            Some(String::from_utf8_lossy(&rest[..end]).into_owned())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn own_exe() -> Vec<u8> {
        std::fs::read(std::env::current_exe().unwrap()).unwrap()
    }

    #[test]
    fn rust_executable_is_refused_with_a_rust_hint() {
        match inspect_bytes(&own_exe()) {
            Err(TaskFileError::LocalExecTls { hint }) => assert!(hint.contains("cdylib"), "{hint}"),
            other => panic!("expected LocalExecTls, got {other:?}"),
        }
    }

    #[test]
    fn non_elf_is_refused() {
        assert!(matches!(
            inspect_bytes(b"#!/bin/sh\necho hi\n"),
            Err(TaskFileError::NotElf)
        ));
        assert!(matches!(inspect_bytes(b""), Err(TaskFileError::NotElf)));
    }

    #[test]
    fn wrong_class_and_architecture_are_refused() {
        let mut exe = own_exe();
        exe[4] = elf::ELFCLASS32;
        assert!(matches!(
            inspect_bytes(&exe),
            Err(TaskFileError::WrongClass)
        ));
        let mut exe = own_exe();
        // e_machine sits at offset 18 in the ELF header; 0xB7 is AArch64, 0x3E x86-64.
        let other: u16 = if HOST_MACHINE == elf::EM_X86_64 {
            elf::EM_AARCH64
        } else {
            elf::EM_X86_64
        };
        exe[18..20].copy_from_slice(&other.to_le_bytes());
        assert!(matches!(
            inspect_bytes(&exe),
            Err(TaskFileError::WrongArchitecture { found, .. }) if found == other
        ));
    }

    #[test]
    fn libc_is_a_shared_object_without_main() {
        let (_, info) = inspect(Path::new("/lib/x86_64-linux-gnu/libc.so.6"))
            .or_else(|_| inspect(Path::new("/usr/lib/x86_64-linux-gnu/libc.so.6")))
            .expect("libc");
        assert_eq!(info.kind, ObjectKind::SharedObject);
        assert!(info.symbol("printf").unwrap().exported);
        let err = info.entry("main").unwrap_err();
        assert!(err.to_string().contains("`main`"), "{err}");
    }

    #[test]
    fn missing_file_is_reported_with_its_path() {
        let err = inspect(Path::new("/nonexistent/task.so")).unwrap_err();
        assert!(matches!(err.reason, TaskFileError::Missing));
        assert_eq!(err.to_string(), "/nonexistent/task.so: no such file");
    }

    #[test]
    fn only_small_regular_files_on_exec_mounts_pass() {
        let exe = std::fs::metadata(std::env::current_exe().unwrap()).unwrap();
        assert!(check_task_file_metadata(&exe, 0).is_ok());
        assert!(matches!(
            check_task_file_metadata(&exe, libc::ST_NOEXEC),
            Err(TaskFileError::NoExecMount)
        ));
        let dev = std::fs::metadata("/dev/null").unwrap();
        let err = check_task_file_metadata(&dev, 0).unwrap_err();
        assert!(err.to_string().contains("character device"), "{err}");
    }
}
