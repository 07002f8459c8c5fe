//! Fence and passive-target synchronisation: `MPI_Win_fence`, `MPI_Win_lock`/`_unlock`,
//! `_lock_all`/`_unlock_all`, the flushes and `MPI_Win_sync` (see [Fence](super#fence),
//! [Lock word](super#lock-word) and [Memory model](super#memory-model)).

use super::control::full_fence;
use super::{get, Held, Win};
use crate::error::{call_on, fail, On, Result};
use crate::error::{MPI_ERR_ASSERT, MPI_ERR_LOCKTYPE, MPI_ERR_RMA_SYNC};
use crate::handle::*;
use pip_comm::prelude::*;
use std::ffi::c_int;

/// Every assertion flag.
const MODES: c_int =
    MPI_MODE_NOCHECK | MPI_MODE_NOSTORE | MPI_MODE_NOPUT | MPI_MODE_NOPRECEDE | MPI_MODE_NOSUCCEED;

/// Fails with `MPI_ERR_ASSERT` for bits that are no `MPI_MODE_*` flag.
pub fn check_assert(assert: c_int) -> Result<()> {
    if assert & !MODES != 0 {
        return fail(
            MPI_ERR_ASSERT,
            format!("assert {assert:#x} has bits that are no MPI_MODE_* flag"),
        );
    }
    Ok(())
}

impl Win {
    /// `MPI_Win_fence`: ends the fence epoch and (unless `MPI_MODE_NOSUCCEED`) opens the next.
    pub fn fence(&self, assert: c_int) -> Result<()> {
        check_assert(assert)?;
        {
            let e = self.epochs.borrow();
            if e.locks.iter().any(|l| l.is_some())
                || e.lock_all.is_some()
                || e.started.is_some()
                || e.posted.is_some()
            {
                return fail(
                    MPI_ERR_RMA_SYNC,
                    "MPI_Win_fence while a lock, lock_all, start or post epoch is open",
                );
            }
        }
        full_fence();
        self.pc.barrier()?;
        full_fence();
        self.epochs.borrow_mut().fence = assert & MPI_MODE_NOSUCCEED == 0;
        Ok(())
    }

    /// `MPI_Win_lock`: blocks until `target`'s lock is held (unless `MPI_MODE_NOCHECK`).
    pub fn lock(&self, lock_type: c_int, target: c_int, assert: c_int) -> Result<()> {
        check_assert(assert)?;
        let exclusive = match lock_type {
            MPI_LOCK_EXCLUSIVE => true,
            MPI_LOCK_SHARED => false,
            t => {
                return fail(
                    MPI_ERR_LOCKTYPE,
                    format!("lock_type {t} is neither MPI_LOCK_EXCLUSIVE nor MPI_LOCK_SHARED"),
                )
            }
        };
        let Some(t) = self.target(target)? else {
            return Ok(());
        };
        {
            let e = self.epochs.borrow();
            if e.lock_all.is_some() || e.locks[t].is_some() {
                return fail(
                    MPI_ERR_RMA_SYNC,
                    format!("MPI_Win_lock: target {t} is already locked by this rank"),
                );
            }
        }
        let held = if assert & MPI_MODE_NOCHECK != 0 {
            full_fence();
            Held::NoCheck
        } else {
            self.ctl().lock(t, exclusive);
            if exclusive {
                Held::Exclusive
            } else {
                Held::Shared
            }
        };
        self.epochs.borrow_mut().locks[t] = Some(held);
        Ok(())
    }

    /// `MPI_Win_unlock`: ends the lock epoch on `target` (its operations are complete).
    pub fn unlock(&self, target: c_int) -> Result<()> {
        let Some(t) = self.target(target)? else {
            return Ok(());
        };
        let held = self.epochs.borrow_mut().locks[t].take();
        match held {
            None => {
                return fail(
                    MPI_ERR_RMA_SYNC,
                    format!("MPI_Win_unlock: target {t} is not locked by this rank"),
                )
            }
            Some(Held::NoCheck) => full_fence(),
            Some(h) => self.ctl().unlock(t, h == Held::Exclusive),
        }
        Ok(())
    }

    /// `MPI_Win_lock_all`: a shared lock on every target, taken in rank order.
    pub fn lock_all(&self, assert: c_int) -> Result<()> {
        check_assert(assert)?;
        {
            let e = self.epochs.borrow();
            if e.lock_all.is_some() || e.locks.iter().any(|l| l.is_some()) {
                return fail(
                    MPI_ERR_RMA_SYNC,
                    "MPI_Win_lock_all while this rank holds a lock on the window",
                );
            }
        }
        let nocheck = assert & MPI_MODE_NOCHECK != 0;
        if nocheck {
            full_fence();
        } else {
            for t in 0..self.targets.len() {
                self.ctl().lock(t, false);
            }
        }
        self.epochs.borrow_mut().lock_all = Some(nocheck);
        Ok(())
    }

    /// `MPI_Win_unlock_all`.
    pub fn unlock_all(&self) -> Result<()> {
        match self.epochs.borrow_mut().lock_all.take() {
            None => fail(
                MPI_ERR_RMA_SYNC,
                "MPI_Win_unlock_all without MPI_Win_lock_all",
            ),
            Some(true) => {
                full_fence();
                Ok(())
            }
            Some(false) => {
                for t in 0..self.targets.len() {
                    self.ctl().unlock(t, false);
                }
                Ok(())
            }
        }
    }

    /// The flushes: operations are complete already, so a flush is a memory fence; it needs a
    /// passive-target epoch on `target` (any target when `None`).
    pub fn flush(&self, target: Option<c_int>, what: &str) -> Result<()> {
        let open = {
            let e = self.epochs.borrow();
            match target {
                Some(r) => match self.target(r)? {
                    None => return Ok(()),
                    Some(t) => e.lock_all.is_some() || e.locks[t].is_some(),
                },
                None => e.lock_all.is_some() || e.locks.iter().any(|l| l.is_some()),
            }
        };
        if !open {
            return fail(
                MPI_ERR_RMA_SYNC,
                format!("{what} outside a passive-target (lock) epoch"),
            );
        }
        full_fence();
        Ok(())
    }
}

/// Runs `f` on window `win` for MPI function `name`.
fn with(name: &'static str, win: Handle, f: impl FnOnce(&Win) -> Result<()>) -> c_int {
    call_on(name, On::Win(win), || f(&*get(win)?))
}

/// `MPI_Win_fence`: a barrier with full memory fences; assertions are checked and otherwise
/// only `MPI_MODE_NOSUCCEED` (no epoch follows) changes anything.
#[no_mangle]
pub extern "C" fn MPI_Win_fence(assert: c_int, win: Handle) -> c_int {
    with("MPI_Win_fence", win, |w| w.fence(assert))
}

/// `MPI_Win_lock`: blocks until the lock is held (MPI allows a lazier lock).
#[no_mangle]
pub extern "C" fn MPI_Win_lock(lock_type: c_int, rank: c_int, assert: c_int, win: Handle) -> c_int {
    with("MPI_Win_lock", win, |w| w.lock(lock_type, rank, assert))
}

/// `MPI_Win_unlock`.
#[no_mangle]
pub extern "C" fn MPI_Win_unlock(rank: c_int, win: Handle) -> c_int {
    with("MPI_Win_unlock", win, |w| w.unlock(rank))
}

/// `MPI_Win_lock_all`: shared locks on every target.
#[no_mangle]
pub extern "C" fn MPI_Win_lock_all(assert: c_int, win: Handle) -> c_int {
    with("MPI_Win_lock_all", win, |w| w.lock_all(assert))
}

/// `MPI_Win_unlock_all`.
#[no_mangle]
pub extern "C" fn MPI_Win_unlock_all(win: Handle) -> c_int {
    with("MPI_Win_unlock_all", win, |w| w.unlock_all())
}

/// `MPI_Win_flush`: a memory fence (operations complete when they return).
#[no_mangle]
pub extern "C" fn MPI_Win_flush(rank: c_int, win: Handle) -> c_int {
    with("MPI_Win_flush", win, |w| {
        w.flush(Some(rank), "MPI_Win_flush")
    })
}

/// `MPI_Win_flush_local`: as `MPI_Win_flush`.
#[no_mangle]
pub extern "C" fn MPI_Win_flush_local(rank: c_int, win: Handle) -> c_int {
    with("MPI_Win_flush_local", win, |w| {
        w.flush(Some(rank), "MPI_Win_flush_local")
    })
}

/// `MPI_Win_flush_all`: a memory fence.
#[no_mangle]
pub extern "C" fn MPI_Win_flush_all(win: Handle) -> c_int {
    with("MPI_Win_flush_all", win, |w| {
        w.flush(None, "MPI_Win_flush_all")
    })
}

/// `MPI_Win_flush_local_all`: as `MPI_Win_flush_all`.
#[no_mangle]
pub extern "C" fn MPI_Win_flush_local_all(win: Handle) -> c_int {
    with("MPI_Win_flush_local_all", win, |w| {
        w.flush(None, "MPI_Win_flush_local_all")
    })
}

/// `MPI_Win_sync`: a full memory fence, in or out of an epoch.
#[no_mangle]
pub extern "C" fn MPI_Win_sync(win: Handle) -> c_int {
    with("MPI_Win_sync", win, |_| {
        full_fence();
        Ok(())
    })
}
