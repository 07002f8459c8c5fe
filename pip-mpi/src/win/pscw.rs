//! Generalised active target synchronisation: `MPI_Win_post`, `MPI_Win_start`,
//! `MPI_Win_complete`, `MPI_Win_wait` and `MPI_Win_test` (the protocol is
//! [Post, start, complete, wait](super#post-start-complete-wait)).

use super::sync::check_assert;
use super::{get, Win};
use crate::error::{call_on, fail, On, Result};
use crate::error::{MPI_ERR_GROUP, MPI_ERR_RANK, MPI_ERR_RMA_SYNC};
use crate::handle::{Handle, MPI_MODE_NOCHECK};
use std::ffi::c_int;

impl Win {
    /// Checks a group's ranks (in the window's communicator): in range, no rank twice.
    fn group(&self, ranks: &[c_int]) -> Result<Vec<usize>> {
        let mut out: Vec<usize> = Vec::with_capacity(ranks.len());
        for &r in ranks {
            match self.target(r)? {
                Some(t) if !out.contains(&t) => out.push(t),
                _ => {
                    return fail(
                        MPI_ERR_RANK,
                        format!("rank {r} is not a distinct rank of the window"),
                    )
                }
            }
        }
        Ok(out)
    }

    /// `MPI_Win_post` to the origins `ranks`: opens an exposure epoch.
    pub fn post(&self, ranks: &[c_int], assert: c_int) -> Result<()> {
        check_assert(assert)?;
        let origins = self.group(ranks)?;
        if self.epochs.borrow().posted.is_some() {
            return fail(
                MPI_ERR_RMA_SYNC,
                "MPI_Win_post while this rank's previous post is not waited for",
            );
        }
        if assert & MPI_MODE_NOCHECK == 0 {
            self.ctl().post(self.rank as usize, &origins);
        }
        self.epochs.borrow_mut().posted = Some(origins.iter().map(|&o| o as c_int).collect());
        Ok(())
    }

    /// `MPI_Win_start` towards the targets `ranks`: waits for their posts (unless
    /// `MPI_MODE_NOCHECK`) and opens an access epoch.
    pub fn start(&self, ranks: &[c_int], assert: c_int) -> Result<()> {
        check_assert(assert)?;
        let targets = self.group(ranks)?;
        if self.epochs.borrow().started.is_some() {
            return fail(
                MPI_ERR_RMA_SYNC,
                "MPI_Win_start while this rank's previous start is not completed",
            );
        }
        if assert & MPI_MODE_NOCHECK == 0 {
            self.ctl().start(self.rank as usize, &targets);
        }
        self.epochs.borrow_mut().started = Some(targets.iter().map(|&t| t as c_int).collect());
        Ok(())
    }

    /// `MPI_Win_complete`: ends the access epoch; tells each target.
    pub fn complete(&self) -> Result<()> {
        let Some(targets) = self.epochs.borrow_mut().started.take() else {
            return fail(MPI_ERR_RMA_SYNC, "MPI_Win_complete without MPI_Win_start");
        };
        let targets: Vec<usize> = targets.iter().map(|&t| t as usize).collect();
        self.ctl().complete(&targets);
        Ok(())
    }

    /// `MPI_Win_wait` (`block`) or `MPI_Win_test` (one check): true once every origin of the
    /// post completed, which ends the exposure epoch.
    pub fn wait(&self, block: bool) -> Result<bool> {
        let k = match &self.epochs.borrow().posted {
            None => {
                return fail(
                    MPI_ERR_RMA_SYNC,
                    "MPI_Win_wait or MPI_Win_test without MPI_Win_post",
                )
            }
            Some(origins) => origins.len() as u32,
        };
        let me = self.rank as usize;
        let done = if block {
            self.ctl().wait_completed(me, k);
            true
        } else {
            self.ctl().test_completed(me, k)
        };
        if done {
            self.epochs.borrow_mut().posted = None;
        }
        Ok(done)
    }
}

/// The ranks, in the window's communicator, of the members of group `group`
/// (`MPI_ERR_GROUP` for a member that is not one of the window's ranks).
fn group_ranks(w: &Win, group: Handle) -> Result<Vec<c_int>> {
    crate::group::members(group)?
        .iter()
        .map(|&m| match crate::group::position(&w.members, m) {
            Some(r) => Ok(r as c_int),
            None => fail(
                MPI_ERR_GROUP,
                format!("group {group} has world rank {m}, which is not a rank of the window"),
            ),
        })
        .collect()
}

/// `MPI_Win_post`: exposes this rank's window to the origins of `group`; does not block.
#[no_mangle]
pub extern "C" fn MPI_Win_post(group: Handle, assert: c_int, win: Handle) -> c_int {
    call_on("MPI_Win_post", On::Win(win), || {
        let w = get(win)?;
        w.post(&group_ranks(&w, group)?, assert)
    })
}

/// `MPI_Win_start`: blocks until every target of `group` has posted (MPI allows a lazier
/// start).
#[no_mangle]
pub extern "C" fn MPI_Win_start(group: Handle, assert: c_int, win: Handle) -> c_int {
    call_on("MPI_Win_start", On::Win(win), || {
        let w = get(win)?;
        w.start(&group_ranks(&w, group)?, assert)
    })
}

/// `MPI_Win_complete`: does not wait for the targets.
#[no_mangle]
pub extern "C" fn MPI_Win_complete(win: Handle) -> c_int {
    call_on("MPI_Win_complete", On::Win(win), || get(win)?.complete())
}

/// `MPI_Win_wait`: blocks until every origin of the post has called `MPI_Win_complete`.
#[no_mangle]
pub extern "C" fn MPI_Win_wait(win: Handle) -> c_int {
    call_on("MPI_Win_wait", On::Win(win), || {
        get(win)?.wait(true).map(drop)
    })
}

/// `MPI_Win_test`: `MPI_Win_wait` without blocking; `*flag` says whether it ended the epoch.
#[no_mangle]
pub unsafe extern "C" fn MPI_Win_test(win: Handle, flag: *mut c_int) -> c_int {
    call_on("MPI_Win_test", On::Win(win), || {
        let flag = crate::comm::out(flag)?;
        let done = get(win)?.wait(false)?;
        // SAFETY: checked non-null; the caller passes a valid int pointer.
        unsafe { *flag = c_int::from(done) };
        Ok(())
    })
}
