//! Waiting for tasks: [`Root::wait`] and its variants. The root sleeps on the `events` word
//! (see [Life of a task](super#life-of-a-task-thread-mode)).

use super::state::*;
use super::Root;
use crate::error::{Error, Result};
use crate::sys::{futex_wait, futex_wait_timeout};
use crate::ExitStatus;
use std::ffi::c_void;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

impl Root {
    pub(super) fn join(&self, slot: &TaskSlot) {
        // SYNC(root#events-and-exports): the thread handle, taken once (AcqRel) by the one who joins
        let t = slot.thread.swap(0, Ordering::AcqRel);
        if t != 0 {
            // SAFETY: `t` is a joinable thread we created and have not joined yet.
            unsafe { libc::pthread_join(t as libc::pthread_t, std::ptr::null_mut()) };
        }
        if let Some((addr, size)) = slot.alt_stack.lock().unwrap().take() {
            // SAFETY: the thread has ended, so nobody uses its alternate signal stack.
            unsafe { libc::munmap(addr as *mut c_void, size) };
        }
    }

    /// Reaps a finished task: joins its thread and marks it waited.
    pub(super) fn reap(&self, slot: &TaskSlot) -> ExitStatus {
        self.join(slot);
        // SYNC(root#slot-fields): Acquire pairs with the task thread's Release store of FINISHED (status written before it)
        slot.state.store(WAITED, Ordering::Release);
        slot.status()
    }

    pub(super) fn take_interrupt(&self) -> Result<()> {
        // SYNC(root#events-and-exports): the caught termination signal, taken once; pairs with the handler's SeqCst store
        match self.state.interrupt.swap(0, Ordering::SeqCst) {
            0 => Ok(()),
            sig => Err(Error::Interrupted(sig)),
        }
    }

    /// Publishes on the wait board that the root waits for task `peer` (or any) to end.
    pub(super) fn publish_wait(&self, peer: i32) -> crate::waits::Published {
        let mut w = crate::waits::WaitInfo::new(crate::waits::WaitKind::TaskEnd);
        w.peer = peer;
        // SAFETY: the board, if any, is this root's and is never unmapped; its last slot is
        // the root's.
        unsafe {
            crate::waits::publish_in(
                // SYNC(root#events-and-exports): set at init, before any task; Acquire pairs with its initialisation
                self.state.abi.wait_board.load(Ordering::Acquire),
                self.state.tasks.len(),
                &w,
            )
        }
    }

    /// Waits for task `pipid` to end and returns how it ended.
    ///
    /// Errors: [`Error::InvalidPipid`], [`Error::NoSuchTask`] (never spawned or already
    /// waited for), [`Error::Interrupted`].
    pub fn wait(&mut self, pipid: usize) -> Result<ExitStatus> {
        let slot = self.check_pipid(pipid)?;
        let mut published = None;
        loop {
            // SYNC(root#events-and-exports): read before the scan; pairs with every ending's SeqCst increment, so a sleep on an unchanged value misses no ending
            let seen = self.state.events.load(Ordering::SeqCst);
            // SYNC(root#slot-fields): Acquire pairs with the task thread's Release store of FINISHED (status written before it)
            match slot.state.load(Ordering::Acquire) {
                FINISHED => return Ok(self.reap(slot)),
                RUNNING | STARTING => {}
                _ => return Err(Error::NoSuchTask(pipid)),
            }
            self.take_interrupt()?;
            published.get_or_insert_with(|| self.publish_wait(pipid as i32));
            futex_wait(&self.state.events, seen);
        }
    }

    /// Returns how task `pipid` ended if it has, `None` if it is still running.
    pub fn try_wait(&mut self, pipid: usize) -> Result<Option<ExitStatus>> {
        let slot = self.check_pipid(pipid)?;
        // SYNC(root#slot-fields): Acquire pairs with the task thread's Release store of FINISHED (status written before it)
        match slot.state.load(Ordering::Acquire) {
            FINISHED => Ok(Some(self.reap(slot))),
            RUNNING | STARTING => Ok(None),
            _ => Err(Error::NoSuchTask(pipid)),
        }
    }

    /// One scan: a finished task if any; `Err(NoTasks)` if none is left to wait for.
    pub(super) fn scan(&self) -> Result<Option<(usize, ExitStatus)>> {
        let mut live = false;
        for slot in self.state.tasks.iter() {
            // SYNC(root#slot-fields): Acquire pairs with the task thread's Release store of FINISHED (status written before it)
            match slot.state.load(Ordering::Acquire) {
                FINISHED => return Ok(Some((slot.pipid, self.reap(slot)))),
                RUNNING | STARTING => live = true,
                _ => {}
            }
        }
        if live {
            Ok(None)
        } else {
            Err(Error::NoTasks)
        }
    }

    /// Waits for any task to end; returns its pipid and status. [`Error::NoTasks`] when no
    /// task is left to wait for.
    pub fn wait_any(&mut self) -> Result<(usize, ExitStatus)> {
        let mut published = None;
        loop {
            // SYNC(root#events-and-exports): read before the scan; pairs with every ending's SeqCst increment, so a sleep on an unchanged value misses no ending
            let seen = self.state.events.load(Ordering::SeqCst);
            if let Some(done) = self.scan()? {
                return Ok(done);
            }
            self.take_interrupt()?;
            published.get_or_insert_with(|| self.publish_wait(crate::waits::ANY));
            futex_wait(&self.state.events, seen);
        }
    }

    /// Like [`wait_any`](Root::wait_any) but gives up with [`Error::TimedOut`] after `timeout`.
    pub fn wait_any_timeout(&mut self, timeout: Duration) -> Result<(usize, ExitStatus)> {
        let deadline = Instant::now() + timeout;
        let mut published = None;
        loop {
            // SYNC(root#events-and-exports): read before the scan; pairs with every ending's SeqCst increment, so a sleep on an unchanged value misses no ending
            let seen = self.state.events.load(Ordering::SeqCst);
            if let Some(done) = self.scan()? {
                return Ok(done);
            }
            self.take_interrupt()?;
            published.get_or_insert_with(|| self.publish_wait(crate::waits::ANY));
            let now = Instant::now();
            if now >= deadline {
                return Err(Error::TimedOut);
            }
            futex_wait_timeout(&self.state.events, seen, deadline - now);
        }
    }

    /// A finished task if there is one, `None` if tasks are running but none has ended;
    /// [`Error::NoTasks`] when none is left.
    pub fn try_wait_any(&mut self) -> Result<Option<(usize, ExitStatus)>> {
        self.scan()
    }
}
