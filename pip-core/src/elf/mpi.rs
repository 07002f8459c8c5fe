//! Programs built against another MPI: recognised by their `DT_NEEDED` entries, refused by name.
//!
//! An MPI program built with MPICH's or Open MPI's `mpicc` and loaded as a task would
//! initialise that library on its own, find no launcher, and run as a world of one: `pip-exec -n
//! 2` would print `rank 0 of 1` twice and exit 0. So a file that needs another MPI's library
//! cannot be a task ([`TaskFileError::ForeignMpi`]); the fix is to rebuild it with pip-rs's
//! `mpicc` (pip-mpi), whose library has the soname `libmpi.so` exactly (set by pip-mpi's
//! build script), without a version.
//!
//! What counts as another MPI's library, and whose it is:
//!
//! | `DT_NEEDED` entry                                  | MPI                     |
//! |----------------------------------------------------|-------------------------|
//! | `libmpi.so` (no version)                           | pip-rs's own: accepted  |
//! | `libmpi.so.12`, `libmpich*`, `libmpicxx*`, `libmpifort*` | MPICH (and MPICH-ABI MPIs) |
//! | `libmpi.so.40`, `libmpi.so.20`, `libmpi_*`, `libopen-pal*`, `libopen-rte*` | Open MPI |
//! | `libmpi.so.N`, any other version                   | another MPI             |
//!
//! A Rust pip-rs task (one that exports [`ATTACH_SYMBOL`](super::ATTACH_SYMBOL)) is not refused:
//! its communication is pip-comm's, and an MPI library it links is the carrier between nodes,
//! initialised once by the root (see the design's "more than one node").

use super::parse::ElfFacts;
#[cfg(doc)]
use super::TaskFileError;
use serde::Serialize;

/// Another MPI implementation's library that a file needs.
///
/// ```
/// use pip_core::elf::ForeignMpi;
/// let needed = ["libc.so.6".to_string(), "libmpi.so.12".to_string()];
/// let found = ForeignMpi::in_needed(&needed).unwrap();
/// assert_eq!((found.implementation, found.library.as_str()), ("MPICH", "libmpi.so.12"));
/// assert_eq!(ForeignMpi::in_needed(&["libmpi.so".to_string()]), None);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ForeignMpi {
    /// The `DT_NEEDED` entry, e.g. `libmpi.so.12`.
    pub library: String,
    /// Whose library it is: `MPICH`, `Open MPI`, or `another MPI`.
    pub implementation: &'static str,
}

impl ForeignMpi {
    /// The first entry of `needed` (a file's `DT_NEEDED` list) that is another MPI's library.
    pub fn in_needed(needed: &[String]) -> Option<ForeignMpi> {
        needed.iter().find_map(|name| {
            implementation_of(name).map(|implementation| ForeignMpi {
                library: name.clone(),
                implementation,
            })
        })
    }
}

impl ElfFacts {
    /// The other MPI's library this file needs, unless it is a Rust pip-rs task (see the
    /// module docs).
    pub fn foreign_mpi(&self) -> Option<ForeignMpi> {
        if self.is_pip_rs_task() {
            return None;
        }
        ForeignMpi::in_needed(&self.needed)
    }
}

/// Whose MPI library `name` (a `DT_NEEDED` entry) is, if it is another MPI's.
fn implementation_of(name: &str) -> Option<&'static str> {
    if name == "libmpi.so" {
        return None; // pip-rs's own (pip-mpi)
    }
    if let Some(version) = name.strip_prefix("libmpi.so.") {
        let major = version.split('.').next().unwrap_or("");
        return Some(match major {
            "12" => "MPICH",
            "40" | "20" => "Open MPI",
            _ => "another MPI",
        });
    }
    let mpich = ["libmpich", "libmpicxx", "libmpifort"];
    let open_mpi = ["libmpi_", "libopen-pal", "libopen-rte"];
    if mpich.iter().any(|p| name.starts_with(p)) {
        Some("MPICH")
    } else if open_mpi.iter().any(|p| name.starts_with(p)) {
        Some("Open MPI")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::implementation_of;

    #[test]
    fn mpi_libraries_are_named_by_their_implementation() {
        for (name, mpi) in [
            ("libmpi.so", None),
            ("libmpi.so.12", Some("MPICH")),
            ("libmpi.so.12.1.8", Some("MPICH")),
            ("libmpich.so.12", Some("MPICH")),
            ("libmpicxx.so.12", Some("MPICH")),
            ("libmpifort.so.12", Some("MPICH")),
            ("libmpi.so.40", Some("Open MPI")),
            ("libmpi_cxx.so.40", Some("Open MPI")),
            ("libopen-pal.so.40", Some("Open MPI")),
            ("libopen-rte.so.40", Some("Open MPI")),
            ("libmpi.so.3", Some("another MPI")),
            ("libpip.so", None),
            ("libmpfr.so.6", None),
            ("libc.so.6", None),
        ] {
            assert_eq!(implementation_of(name), mpi, "{name}");
        }
    }
}
