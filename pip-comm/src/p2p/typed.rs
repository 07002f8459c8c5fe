//! A communicator's typed, checked point-to-point operations on top of the endpoint: ranks
//! and tags checked and turned into a world rank and a matching [`Filter`], element slices
//! turned into bytes, what arrived turned into a [`Status`]. The [`Source`](super::Source)
//! and [`Destination`](super::Destination) traits call these.

use super::{status_sized, ProbeStatus, Rank, Status, Tag, ANY_SOURCE, ANY_TAG, MAX_TAG};
use crate::datatype::{bytes_of, Equivalence};
use crate::endpoint::{Arrived, Mode, Origin};
use crate::matching::Filter;
use crate::owned::{OwnedVec, SendVecError};
use crate::rank;
use crate::watchdog::What;
use crate::world::SimpleCommunicator;
use crate::{Error, Result};

impl SimpleCommunicator {
    /// The world rank of destination `rank` of this communicator (checked).
    pub(crate) fn destination(&self, rank: Rank) -> Result<u32> {
        if (0..self.size()).contains(&rank) {
            Ok(self.world_rank(rank::internal(rank)))
        } else {
            Err(Error::RankOutOfRange {
                rank,
                size: self.size(),
            })
        }
    }

    /// A send's world destination, with the tag checked.
    pub(crate) fn send_target(&self, rank: Rank, tag: Tag) -> Result<u32> {
        if rank == ANY_SOURCE {
            return Err(Error::AnySourceNotAllowed {
                what: "the destination of a send",
                size: self.size(),
            });
        }
        let dst = self.destination(rank)?;
        if !(0..=MAX_TAG).contains(&tag) {
            return Err(Error::InvalidTag { tag });
        }
        Ok(dst)
    }

    /// The filter of a receive from `rank` (or [`ANY_SOURCE`]) with `tag` (or [`ANY_TAG`]) on
    /// this communicator.
    pub(crate) fn source_filter(&self, rank: Rank, tag: Tag) -> Result<Filter> {
        let source = if rank == ANY_SOURCE {
            ANY_SOURCE
        } else {
            rank::public(self.destination(rank)?)
        };
        if tag != ANY_TAG && !(0..=MAX_TAG).contains(&tag) {
            return Err(Error::InvalidTag { tag });
        }
        Ok(Filter {
            ctx: self.ctx,
            source,
            tag,
        })
    }

    /// Sends `data` to `rank` with `tag` (checked) in `mode`.
    pub(crate) fn send_typed<T: Equivalence>(
        &self,
        rank: Rank,
        tag: Tag,
        data: &[T],
        mode: Mode,
    ) -> Result<()> {
        let dst = self.send_target(rank, tag)?;
        if mode == Mode::Synchronous && dst == self.ep.me {
            return self.synchronous_send_to_self(tag, bytes_of(data));
        }
        self.ep.send(dst, self.ctx, tag, bytes_of(data), mode)
    }

    /// A synchronous send to oneself completes only if a posted receive takes it now;
    /// anything else could never complete.
    fn synchronous_send_to_self(&self, tag: Tag, data: &[u8]) -> Result<()> {
        let me = rank::public(self.ep.me);
        let posted = self
            .ep
            .posted
            .borrow()
            .iter()
            .any(|p| p.filter.accepts(self.ctx, me, tag));
        if !posted {
            return Err(Error::SynchronousSendToSelf { tag });
        }
        self.ep
            .send(self.ep.me, self.ctx, tag, data, Mode::Standard)
    }

    /// Receives into `buf` a message that `filter` accepts.
    pub(crate) fn receive_into_filter<T: Equivalence>(
        &self,
        filter: Filter,
        buf: &mut [T],
    ) -> Result<Status> {
        // SAFETY: `buf` is an exclusively borrowed slice of `size_of_val(buf)` bytes, and any
        // bytes are valid `T`s.
        let a = unsafe {
            self.ep.receive(
                filter,
                buf.as_mut_ptr().cast::<u8>(),
                std::mem::size_of_val(buf),
            )?
        };
        self.status_of::<T>(a, buf.len())
    }

    /// The status of a receive into `capacity` elements of `T` that got `a`.
    pub(crate) fn status_of<T>(&self, a: Arrived, capacity: usize) -> Result<Status> {
        status_sized(
            self.local_rank(a.source),
            a.tag,
            a.len,
            capacity,
            std::mem::size_of::<T>(),
        )
    }

    /// Receives a message that `filter` accepts into a new `Vec` of its length (the sender's
    /// own `Vec` when it was handed over with `send_vec`).
    pub(crate) fn receive_vec_filter<T: Equivalence>(
        &self,
        filter: Filter,
    ) -> Result<(Vec<T>, Status)> {
        let m = self.ep.receive_matched(filter)?;
        let (source, tag, len) = (self.local_rank(m.source), m.tag, m.len);
        let size = std::mem::size_of::<T>();
        let m = match m.from {
            Origin::Owned(o) => match o.into_vec::<T>() {
                Ok(v) => {
                    let count = v.len();
                    return Ok((v, Status { source, tag, count }));
                }
                Err(o) => crate::endpoint::Matched {
                    from: Origin::Owned(o),
                    ..m
                },
            },
            _ => m,
        };
        let count = len.checked_div(size).unwrap_or(0);
        let mut v: Vec<T> = Vec::with_capacity(count);
        // SAFETY: the spare capacity holds `count * size` bytes; any bytes are valid `T`s.
        unsafe {
            self.ep
                .deliver(m, v.as_mut_ptr().cast::<u8>(), count * size)?;
            v.set_len(count);
        }
        // A Vec is never too short; a trailing partial element is the only possible error.
        status_sized(source, tag, len, len.div_ceil(size.max(1)), size).map(|s| (v, s))
    }

    /// The message a receive with `filter` would get next, if one has arrived.
    pub(crate) fn iprobe_filter(&self, filter: Filter) -> Option<ProbeStatus> {
        self.ep
            .iprobe(filter)
            .map(|(source, tag, bytes)| ProbeStatus {
                source: self.local_rank(source),
                tag,
                bytes,
            })
    }

    /// Waits for a message that a receive with `filter` would get, without receiving it.
    pub(crate) fn probe_filter(&self, filter: Filter) -> Result<ProbeStatus> {
        self.ep.wait_until(
            What::Probe(filter),
            true,
            || self.iprobe_filter(filter),
            || false,
        )
    }

    /// Hands `vec` over to `rank` (see [`Destination::send_vec`](super::Destination::send_vec)).
    pub(crate) fn send_vec_typed<T: Equivalence>(
        &self,
        rank: Rank,
        tag: Tag,
        vec: Vec<T>,
    ) -> std::result::Result<(), SendVecError<T>> {
        let dst = match self.send_target(rank, tag) {
            Ok(d) => d,
            Err(error) => return Err(SendVecError { error, vec }),
        };
        if !self.ep.shared_allocator {
            return Err(SendVecError {
                error: Error::OwnershipTransferUnavailable,
                vec,
            });
        }
        if std::mem::size_of::<T>() == 0 {
            return self
                .ep
                .send(dst, self.ctx, tag, &[], Mode::Standard)
                .map_err(|error| SendVecError { error, vec });
        }
        let len = std::mem::size_of_val(&vec[..]);
        if dst == self.ep.me {
            self.ep.arrived_self(crate::matching::Pending {
                ctx: self.ctx,
                source: rank::public(dst),
                tag,
                len,
                body: crate::matching::Body::Owned(OwnedVec::from_vec(vec)),
            });
            return Ok(());
        }
        let desc = OwnedVec::from_vec(vec).desc();
        self.ep
            .send_owned(dst, self.ctx, tag, len, &desc)
            .map_err(|error| SendVecError {
                error,
                vec: OwnedVec::from_desc(&desc)
                    .into_vec::<T>()
                    .unwrap_or_else(|_| unreachable!("the parts of a Vec<T>")),
            })
    }
}

/// A zero value of `T` (a receive of one value starts from it).
pub(crate) fn zeroed<T: Equivalence>() -> T {
    // SAFETY: every bit pattern, all zeros included, is a valid `T: Equivalence`.
    unsafe { std::mem::zeroed() }
}
