//! Broadcast: every rank copies the root's buffer straight into its own (small buffers: from
//! the root's region of the communicator's lines, see the `small` module).

use super::{copy_bytes, small, Desc, Kind, Session};
use crate::{BufferMut, Process, Result};

/// The body of `broadcast_into` (documented on the trait).
pub(crate) fn broadcast_into<B: BufferMut + ?Sized>(root: &Process<'_>, buf: &mut B) -> Result<()> {
    let comm = root.comm;
    let buf = buf.as_mut_slice();
    let elem = std::mem::size_of::<B::Item>();
    let bytes = std::mem::size_of_val(buf);
    if small::fits(comm, 1, bytes) {
        if let Some(c) = small::Call::begin(comm)? {
            let a = small::Args {
                root: root.rank,
                send: buf.as_ptr().cast(),
                recv: buf.as_mut_ptr().cast(),
                piece: bytes,
                count: buf.len(),
                elem,
                local: comm.check_root(root.rank),
            };
            // SAFETY: our buffer, `bytes` long, fits a region.
            return unsafe { small::broadcast(c, a) };
        }
    }
    let mut desc = Desc::new(Kind::Bcast, root.rank, elem, buf.len());
    desc.send = buf.as_ptr().cast();
    desc.recv = buf.as_mut_ptr().cast();
    let mut s = Session::begin(comm, desc, comm.check_root(root.rank))?;
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
