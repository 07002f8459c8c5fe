//! Matched probes (MPI's `MPI_Mprobe`): a probe that also takes the message out of the
//! matching queue, so that no other receive can get it before the prober receives it with
//! the [`Message`] handle.
//!
//! The handle holds the endpoint's matched message (the queue's copy, a still-full eager
//! slot, a rendezvous offer or a handed-over `Vec`); receiving it delivers it exactly as a
//! blocking receive would. A handle dropped unreceived delivers into an empty buffer, which
//! releases the slot and completes the sender.

use super::{status_sized, ProbeStatus, Status};
use crate::datatype::{BufferMut, Equivalence};
use crate::endpoint::{Endpoint, Matched};
use crate::matching::Filter;
use crate::world::SimpleCommunicator;
use crate::{Rank, Result};
use std::rc::Rc;

/// A message taken by [`Source::matched_probe`](super::Source::matched_probe),
/// waiting to be received with [`Message::matched_receive_into`] or
/// [`Message::matched_receive_vec`].
#[must_use = "a matched message is received with matched_receive_into or matched_receive_vec"]
pub struct Message {
    ep: Rc<Endpoint>,
    /// The sender's rank in the probe's communicator.
    source: Rank,
    matched: Option<Matched>,
}

impl std::fmt::Debug for Message {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let m = self.matched.as_ref();
        f.debug_struct("Message")
            .field("source", &self.source)
            .field("tag", &m.map(|m| m.tag))
            .field("bytes", &m.map(|m| m.len))
            .finish()
    }
}

/// Waits for a message that `filter` accepts and takes it.
pub(crate) fn probe(comm: &SimpleCommunicator, filter: Filter) -> Result<(Message, ProbeStatus)> {
    let matched = comm.ep.receive_matched(filter)?;
    Ok(message(comm, matched))
}

/// Takes a message that `filter` accepts if one has arrived.
pub(crate) fn immediate_probe(
    comm: &SimpleCommunicator,
    filter: Filter,
) -> Option<(Message, ProbeStatus)> {
    // The queue's first match is what the receive below takes (it is there, so it does not
    // wait).
    comm.iprobe_filter(filter)?;
    comm.ep
        .receive_matched(filter)
        .ok()
        .map(|m| message(comm, m))
}

fn message(comm: &SimpleCommunicator, matched: Matched) -> (Message, ProbeStatus) {
    let status = ProbeStatus {
        source: comm.local_rank(matched.source),
        tag: matched.tag,
        bytes: matched.len,
    };
    let message = Message {
        ep: comm.ep.clone(),
        source: status.source,
        matched: Some(matched),
    };
    (message, status)
}

impl Message {
    /// Receives the message into `buf` (MPI's `MPI_Mrecv`).
    ///
    /// # Errors
    ///
    /// As [`Source::receive_into`](super::Source::receive_into): the message is
    /// consumed even when it is [`Error::Truncated`](crate::Error::Truncated).
    pub fn matched_receive_into<B: BufferMut + ?Sized>(mut self, buf: &mut B) -> Result<Status> {
        let m = self.matched.take().expect("a message is received once");
        let buf = buf.as_mut_slice();
        let (source, tag, len) = (self.source, m.tag, m.len);
        // SAFETY: `buf` is an exclusively borrowed slice of `size_of_val(buf)` bytes, and any
        // bytes are valid elements of an `Equivalence` type.
        unsafe {
            self.ep
                .deliver(m, buf.as_mut_ptr().cast::<u8>(), std::mem::size_of_val(buf))?;
        }
        status_sized(source, tag, len, buf.len(), std::mem::size_of::<B::Item>())
    }

    /// Receives the message into a new `Vec` of its length.
    ///
    /// # Errors
    ///
    /// [`Error::PartialElement`](crate::Error::PartialElement) when the message is not a whole
    /// number of `T`s (the `Vec` would then lose its last bytes).
    ///
    /// ```
    /// use pip_comm::prelude::*;
    /// pip_comm::run(1, |world| {
    ///     let me = world.this_process();
    ///     me.send(&[1.5f32, 2.5]).unwrap();
    ///     let (msg, _) = me.matched_probe().unwrap();
    ///     assert_eq!(msg.matched_receive_vec::<f32>().unwrap().0, [1.5, 2.5]);
    /// })
    /// .unwrap();
    /// ```
    pub fn matched_receive_vec<T: Equivalence>(self) -> Result<(Vec<T>, Status)> {
        let size = std::mem::size_of::<T>().max(1);
        let len = self.matched.as_ref().map_or(0, |m| m.len);
        let mut v = vec![super::zeroed::<T>(); len.div_ceil(size)];
        let status = self.matched_receive_into(&mut v[..])?;
        v.truncate(status.count);
        Ok((v, status))
    }
}

impl Drop for Message {
    fn drop(&mut self) {
        if let Some(m) = self.matched.take() {
            // SAFETY: a zero-byte destination; nothing is written.
            let _ = unsafe {
                self.ep
                    .deliver(m, std::ptr::NonNull::<u8>::dangling().as_ptr(), 0)
            };
        }
    }
}
