//! One pass over an ELF image: every fact that the loader's checks and the fact sheet use.
//!
//! [`ElfFacts::read`] refuses only what is not a 64-bit ELF file for this machine, or is
//! damaged; it decides nothing else. The decisions are made from its facts:
//! [`super::inspect_bytes`] (can the loader run it as a task?) and [`super::sheet`] (everything
//! `pip-check` says about it).

use super::{SymbolInfo, TaskFileError, ATTACH_SYMBOL, HOST_MACHINE, R_COPY};
use crate::abi::{TaskAbiInfo, TASK_INFO_SYMBOL};
use object::elf;
use object::read::elf::{Dyn, FileHeader, ProgramHeader, SectionHeader, SectionTable, Sym};
use object::Endianness;
use std::collections::HashMap;

type Header = elf::FileHeader64<Endianness>;
type Sections<'d> = SectionTable<'d, Header>;

/// What one read of an ELF image found.
#[derive(Debug, Clone, Default)]
pub(crate) struct ElfFacts {
    /// `e_type`: `ET_DYN`, `ET_EXEC`, `ET_REL`...
    pub e_type: u16,
    /// The file has a `PT_DYNAMIC` segment (it is dynamically linked).
    pub dynamic: bool,
    /// The file has a `PT_INTERP` segment (it can be run as a program).
    pub interp: bool,
    /// The file has a `DT_SONAME` (it is meant as a library).
    pub soname: bool,
    /// File offset of the `DT_FLAGS_1` value when it has `DF_1_PIE`.
    pub pie_flag_offset: Option<usize>,
    /// `DF_STATIC_TLS` (initial-exec thread-locals).
    pub static_tls: bool,
    /// The size of the `PT_TLS` segment, when there is one.
    pub tls_size: Option<u64>,
    /// Where the last `PT_LOAD` byte ends in the file.
    pub load_end: usize,
    /// `DT_NEEDED` entries, in order.
    pub needed: Vec<String>,
    /// Defined symbols with a value, `.dynsym` first.
    pub symbols: HashMap<String, SymbolInfo>,
    /// Some symbol table defines `main`.
    pub has_main: bool,
    /// `.dynsym` defines `exit` (a root must export it).
    pub exports_exit: bool,
    /// Rust's symbols (or, stripped, its standard library's source paths) are in the file.
    pub rust: bool,
    /// A symbol of pip-core is defined (the file links pip-core).
    pub links_pip_core: bool,
    /// The file has a non-empty `.symtab` (it is not stripped).
    pub symtab: bool,
    /// A Rust task's ABI block, read from the file.
    pub task_abi: Option<TaskAbiInfo>,
    /// The symbols of the copy relocations of an executable (empty for a library).
    pub copy_relocations: Vec<String>,
}

impl ElfFacts {
    /// Reads every fact of `data` in one pass.
    pub fn read(data: &[u8]) -> Result<ElfFacts, TaskFileError> {
        if data.len() < 16 || &data[..4] != b"\x7fELF" {
            return Err(TaskFileError::NotElf);
        }
        if data[4] != elf::ELFCLASS64 {
            return Err(TaskFileError::WrongClass);
        }
        let header = Header::parse(data).map_err(malformed)?;
        let endian = header.endian().map_err(malformed)?;
        let machine = header.e_machine(endian);
        if machine != HOST_MACHINE {
            return Err(TaskFileError::WrongArchitecture {
                found: machine,
                expected: HOST_MACHINE,
            });
        }
        let mut f = ElfFacts {
            e_type: header.e_type(endian),
            ..ElfFacts::default()
        };
        let phdrs = header.program_headers(endian, data).map_err(malformed)?;
        let dynamic = f.read_segments(data, phdrs, endian)?;
        let sections = header.sections(endian, data).map_err(malformed)?;
        f.needed = needed_names(data, &sections, endian, &dynamic);
        f.read_symbols(data, &sections, endian)?;
        // A stripped Rust program still holds the source paths of its standard library's
        // panic locations.
        if !f.rust && !f.symtab && contains(data, b"/rustc/") {
            f.rust = true;
        }
        f.task_abi = f
            .symbols
            .get(TASK_INFO_SYMBOL)
            .and_then(|s| read_abi_info(data, phdrs, endian, s.value));
        if f.is_executable() {
            f.copy_relocations = copy_relocation_names(data, &sections, endian);
        }
        Ok(f)
    }

    /// An executable: flagged PIE, or with an interpreter and no soname (libc.so.6 has an
    /// interpreter too, so that it can be run, and a soname).
    pub fn is_executable(&self) -> bool {
        self.pie_flag_offset.is_some() || (self.interp && !self.soname)
    }

    /// The file exports [`ATTACH_SYMBOL`]: a Rust task built with pip-core.
    pub fn is_pip_rs_task(&self) -> bool {
        self.symbols.get(ATTACH_SYMBOL).is_some_and(|s| s.exported)
    }

    /// Reads the program headers, and walks `PT_DYNAMIC` by file offset so that we know where
    /// `DT_FLAGS_1` sits in the file. Returns what `DT_NEEDED` needs resolved later.
    fn read_segments(
        &mut self,
        data: &[u8],
        phdrs: &[elf::ProgramHeader64<Endianness>],
        endian: Endianness,
    ) -> Result<DynamicStrings, TaskFileError> {
        let mut strings = DynamicStrings::default();
        let mut load_end = None;
        for p in phdrs {
            match p.p_type(endian) {
                elf::PT_INTERP => self.interp = true,
                elf::PT_TLS => self.tls_size = Some(p.p_memsz(endian)),
                elf::PT_LOAD => {
                    let end = (p.p_offset(endian) + p.p_filesz(endian)) as usize;
                    load_end = Some(load_end.unwrap_or(0).max(end));
                }
                _ => {}
            }
        }
        self.load_end = load_end.unwrap_or(data.len()).min(data.len());
        let Some(dynamic) = phdrs.iter().find(|p| p.p_type(endian) == elf::PT_DYNAMIC) else {
            return Ok(strings);
        };
        self.dynamic = true;
        let base = dynamic.p_offset(endian) as usize;
        let entries = dynamic
            .dynamic(endian, data)
            .map_err(malformed)?
            .unwrap_or(&[]);
        let entry_size = std::mem::size_of::<elf::Dyn64<Endianness>>();
        for (i, d) in entries.iter().enumerate() {
            let val = d.d_val(endian);
            match d.d_tag(endian) as u32 {
                elf::DT_NULL => break,
                elf::DT_FLAGS_1 if val & u64::from(elf::DF_1_PIE) != 0 => {
                    self.pie_flag_offset = Some(base + i * entry_size + 8);
                }
                elf::DT_FLAGS if val & u64::from(elf::DF_STATIC_TLS) != 0 => self.static_tls = true,
                elf::DT_NEEDED => strings.needed.push(val),
                elf::DT_STRTAB => strings.strtab = Some(val),
                elf::DT_SONAME => self.soname = true,
                _ => {}
            }
        }
        Ok(strings)
    }

    /// Reads `.dynsym` then `.symtab`: the defined symbols, and what their names tell.
    fn read_symbols(
        &mut self,
        data: &[u8],
        sections: &Sections<'_>,
        endian: Endianness,
    ) -> Result<(), TaskFileError> {
        for (sh_type, exported) in [(elf::SHT_DYNSYM, true), (elf::SHT_SYMTAB, false)] {
            let table = sections.symbols(endian, data, sh_type).map_err(malformed)?;
            if !exported && !table.is_empty() {
                self.symtab = true;
            }
            for sym in table.iter() {
                if sym.st_shndx(endian) == elf::SHN_UNDEF {
                    continue;
                }
                let Ok(name) = table.symbol_name(endian, sym) else {
                    continue;
                };
                self.note_name(name, exported);
                let Ok(name) = std::str::from_utf8(name) else {
                    continue;
                };
                if name.is_empty() || sym.st_value(endian) == 0 {
                    continue;
                }
                let kind = sym.st_type();
                self.symbols.entry(name.to_string()).or_insert(SymbolInfo {
                    value: sym.st_value(endian),
                    exported,
                    function: kind == elf::STT_FUNC || kind == elf::STT_GNU_IFUNC,
                });
            }
        }
        Ok(())
    }

    /// What a defined symbol's name says about the file.
    fn note_name(&mut self, name: &[u8], exported: bool) {
        if name.starts_with(b"_ZN3std")
            || name.starts_with(b"_ZN4core")
            || name.starts_with(b"_RNv")
            || name == b"rust_begin_unwind"
            || name == b"__rust_alloc"
            || name == b"rust_eh_personality"
        {
            self.rust = true;
        }
        if name == b"main" {
            self.has_main = true;
        }
        if contains(name, b"8pip_core") {
            self.links_pip_core = true;
        }
        if exported && name == b"exit" {
            self.exports_exit = true;
        }
    }
}

fn malformed(e: object::read::Error) -> TaskFileError {
    TaskFileError::Malformed(e.to_string())
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// The `PT_DYNAMIC` entries that name strings: resolved once the sections are read.
#[derive(Default)]
struct DynamicStrings {
    /// `DT_STRTAB`: the address of `.dynstr`.
    strtab: Option<u64>,
    /// `DT_NEEDED` string offsets, in order.
    needed: Vec<u64>,
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

/// The names of the symbols of every copy relocation in the file's relocation sections.
fn copy_relocation_names(data: &[u8], sections: &Sections<'_>, endian: Endianness) -> Vec<String> {
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
    sections: &Sections<'_>,
    endian: Endianness,
    dynamic: &DynamicStrings,
) -> Vec<String> {
    let Some(addr) = dynamic.strtab else {
        return Vec::new();
    };
    let Some(sec) = sections.iter().find(|s| s.sh_addr(endian) == addr) else {
        return Vec::new();
    };
    let Ok(bytes) = sec.data(endian, data) else {
        return Vec::new();
    };
    dynamic
        .needed
        .iter()
        .filter_map(|&o| {
            let rest = bytes.get(o as usize..)?;
            let end = rest.iter().position(|&b| b == 0)?;
            Some(String::from_utf8_lossy(&rest[..end]).into_owned())
        })
        .collect()
}
