//! The rank's phase (before `MPI_Init`, running, finalized) and the handle tables.
//!
//! All of it lives in thread-locals of the thread that called `MPI_Init` (see the crate
//! documentation for why: the library is shared by every rank of the process). A call from
//! another thread finds no initialised MPI there and fails with a message that says so.

use crate::error::{fail, Error, Result, MPI_ERR_OTHER};
use crate::handle::Handle;
use std::cell::Cell;

/// Where a rank is in MPI's life cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// `MPI_Init` not called yet (on this thread).
    Before,
    /// Between `MPI_Init` and `MPI_Finalize`.
    Running,
    /// After `MPI_Finalize`.
    Finalized,
}

thread_local! {
    static PHASE: Cell<Phase> = const { Cell::new(Phase::Before) };
    static WORLD_RANK: Cell<i32> = const { Cell::new(-1) };
}

/// This thread's phase.
pub fn phase() -> Phase {
    PHASE.with(|p| p.get())
}

/// Sets this thread's phase (by `MPI_Init` and `MPI_Finalize`) and world rank.
pub fn set_phase(p: Phase, world_rank: i32) {
    PHASE.with(|c| c.set(p));
    WORLD_RANK.with(|c| c.set(world_rank));
}

/// The calling rank's number in `MPI_COMM_WORLD`, while MPI runs.
pub fn world_rank() -> Option<i32> {
    match phase() {
        Phase::Running => Some(WORLD_RANK.with(|c| c.get())),
        _ => None,
    }
}

/// Fails unless MPI runs on this thread (between `MPI_Init` and `MPI_Finalize`).
pub fn require_running() -> Result<()> {
    match phase() {
        Phase::Running => Ok(()),
        Phase::Before => fail(
            MPI_ERR_OTHER,
            "MPI is not initialised on this thread: call MPI_Init first (pip-rs provides \
             MPI_THREAD_FUNNELED: only the thread that called MPI_Init may call MPI)",
        ),
        Phase::Finalized => fail(MPI_ERR_OTHER, "MPI_Finalize was already called"),
    }
}

/// A table of objects named by int handles: slots `0..first` are reserved (the null handle
/// and the predefined objects, which live elsewhere); freed slots are reused.
#[derive(Debug)]
pub struct Table<T> {
    first: usize,
    slots: Vec<Option<T>>,
    free: Vec<usize>,
}

impl<T> Table<T> {
    /// An empty table whose first handle is `first`.
    pub const fn new(first: usize) -> Table<T> {
        Table {
            first,
            slots: Vec::new(),
            free: Vec::new(),
        }
    }

    /// Stores `v` and returns its handle.
    pub fn insert(&mut self, v: T) -> Handle {
        let i = match self.free.pop() {
            Some(i) => {
                self.slots[i] = Some(v);
                i
            }
            None => {
                self.slots.push(Some(v));
                self.slots.len() - 1
            }
        };
        (self.first + i) as Handle
    }

    fn index(&self, h: Handle) -> Option<usize> {
        usize::try_from(h).ok()?.checked_sub(self.first)
    }

    /// The object of handle `h`.
    pub fn get(&self, h: Handle) -> Option<&T> {
        self.slots.get(self.index(h)?)?.as_ref()
    }

    /// The object of handle `h`, mutably.
    pub fn get_mut(&mut self, h: Handle) -> Option<&mut T> {
        let i = self.index(h)?;
        self.slots.get_mut(i)?.as_mut()
    }

    /// Takes the object of handle `h` out; its handle may be reused.
    pub fn remove(&mut self, h: Handle) -> Option<T> {
        let i = self.index(h)?;
        let v = self.slots.get_mut(i)?.take()?;
        self.free.push(i);
        Some(v)
    }

    /// Puts `v` back under the handle `h` it was taken from with [`Table::take`].
    pub fn restore(&mut self, h: Handle, v: T) {
        let i = self.index(h).expect("a handle of this table");
        debug_assert!(self.slots[i].is_none());
        self.slots[i] = Some(v);
    }

    /// Takes the object of `h` out without freeing the handle (put it back with
    /// [`Table::restore`]).
    pub fn take(&mut self, h: Handle) -> Option<T> {
        let i = self.index(h)?;
        self.slots.get_mut(i)?.take()
    }

    /// Removes every object.
    pub fn clear(&mut self) {
        self.slots.clear();
        self.free.clear();
    }

    /// The live objects with their handles.
    pub fn iter(&self) -> impl Iterator<Item = (Handle, &T)> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(move |(i, v)| v.as_ref().map(|v| ((self.first + i) as Handle, v)))
    }
}

/// Converts a C count (an `int`) to a `usize`, failing with `class` on a negative one.
pub fn count(n: std::ffi::c_int, class: std::ffi::c_int, what: &str) -> Result<usize> {
    usize::try_from(n).map_err(|_| Error::new(class, format!("{what} is negative ({n})")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_start_at_first_and_are_reused() {
        let mut t = Table::new(3);
        let a = t.insert("a");
        let b = t.insert("b");
        assert_eq!((a, b), (3, 4));
        assert_eq!(t.get(0), None);
        assert_eq!(t.remove(a), Some("a"));
        assert_eq!(t.get(a), None);
        assert_eq!(t.insert("c"), 3);
        let v = t.take(b).unwrap();
        assert_eq!(t.get(b), None);
        t.restore(b, v);
        assert_eq!(t.get(b), Some(&"b"));
        assert_eq!(t.iter().count(), 2);
    }
}
