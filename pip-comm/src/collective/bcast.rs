//! Broadcast: every rank copies the root's buffer straight into its own.

use super::{copy_bytes, Desc, Kind, Session};
use crate::{BufferMut, Process, Result};

impl Process<'_> {
    /// Broadcasts the root's `buf` (this `Process` names the root) into every other rank's
    /// `buf` (MPI's `MPI_Bcast`). Every rank passes a buffer of the same length; each non-root
    /// copies the root's buffer into its own, all at once.
    ///
    /// # Errors
    ///
    /// [`Error::RankOutOfRange`](crate::Error::RankOutOfRange) for a root outside the
    /// communicator; [`Error::CollectiveMismatch`](crate::Error::CollectiveMismatch) when the
    /// lengths, element types or roots differ (the buffer is then left as it was);
    /// [`Error::Aborted`](crate::Error::Aborted).
    ///
    /// # Examples
    ///
    /// ```
    /// let out = pip_comm::run(3, |world| {
    ///     let mut v = if world.rank() == 1 { [7u64, 8, 9] } else { [0; 3] };
    ///     world.process_at_rank(1).broadcast_into(&mut v[..]).unwrap();
    ///     v
    /// })
    /// .unwrap();
    /// assert!(out.iter().all(|v| *v == [7, 8, 9]));
    /// ```
    pub fn broadcast_into<B: BufferMut + ?Sized>(&self, buf: &mut B) -> Result<()> {
        let comm = self.comm;
        let buf = buf.as_mut_slice();
        let elem = std::mem::size_of::<B::Item>();
        let mut desc = Desc::new(Kind::Bcast, self.rank, elem, buf.len());
        desc.send = buf.as_ptr().cast();
        desc.recv = buf.as_mut_ptr().cast();
        let mut s = Session::begin(comm, desc, comm.check_root(self.rank));
        let plan = s.agree(&desc)?;
        if s.ok() && plan.root != s.me {
            let d = s.enter(plan.root)?;
            if s.check_peer(plan.root, &d, &desc, true, false) {
                // SAFETY: the root published a buffer of `count` elements of `elem` bytes
                // (checked equal to ours) and keeps it until we release its slot; our buffer is
                // borrowed mutably by this call.
                unsafe { copy_bytes(comm, d.send, desc.recv, d.count * elem) };
            }
            s.release(plan.root);
        }
        s.finish()
    }
}
