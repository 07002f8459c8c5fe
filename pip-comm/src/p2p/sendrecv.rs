//! Send-receive (MPI's `MPI_Sendrecv`): one send and one receive, with the receive posted
//! before the send starts, so two ranks may exchange messages of any size with each other
//! without deadlock (each one's large send finds the other's receive posted).

use super::{status_sized, Rank, Status, Tag, ANY_TAG};
use crate::datatype::{bytes_of, Buffer, BufferMut};
use crate::endpoint::Mode;
use crate::p2p::{Destination, Source};
use crate::watchdog::What;
use crate::world::SimpleCommunicator;
use crate::Result;
#[allow(unused_imports)] // for the documentation's links
use crate::ANY_SOURCE;

/// Sends `msg` to `destination` with tag 0 and receives into `buf` from `source` with any tag
/// (rsmpi's `send_receive_into`): the receive is posted before the send starts.
///
/// # Errors
///
/// As [`Destination::send_with_tag`] and [`Source::receive_into_with_tag`].
///
/// # Examples
///
/// ```
/// use pip_comm::prelude::*;
/// pip_comm::run(2, |world| {
///     let other = world.process_at_rank(1 - world.rank());
///     let mine = vec![world.rank() as u8; 1 << 20];
///     let mut theirs = vec![0u8; 1 << 20];
///     let s = pip_comm::send_receive_into(&mine[..], &other, &mut theirs[..], &other).unwrap();
///     assert_eq!((s.source, s.count), (other.rank(), 1 << 20));
///     assert!(theirs.iter().all(|&b| b == other.rank() as u8));
/// })
/// .unwrap();
/// ```
pub fn send_receive_into<M, D, B, S>(
    msg: &M,
    destination: &D,
    buf: &mut B,
    source: &S,
) -> Result<Status>
where
    M: Buffer + ?Sized,
    D: Destination,
    B: BufferMut + ?Sized,
    S: Source,
{
    send_receive_into_with_tags(msg, destination, 0, buf, source, ANY_TAG)
}

/// [`send_receive_into`] with the send's tag and the receive's tag (or [`ANY_TAG`]).
///
/// # Errors
///
/// As [`send_receive_into`], and [`Error::InvalidTag`](crate::Error::InvalidTag).
pub fn send_receive_into_with_tags<M, D, B, S>(
    msg: &M,
    destination: &D,
    send_tag: Tag,
    buf: &mut B,
    source: &S,
    receive_tag: Tag,
) -> Result<Status>
where
    M: Buffer + ?Sized,
    D: Destination,
    B: BufferMut + ?Sized,
    S: Source,
{
    let ((to, dest), (from, src)) = (destination.peer(), source.peer());
    let dst = to.send_target(dest, send_tag)?;
    let filter = from.source_filter(src, receive_tag)?;
    let buf = buf.as_mut_slice();
    let cap = buf.len();
    let ep = &from.ep;
    // SAFETY: `buf` is exclusively borrowed until this function returns, and the receive is
    // complete or cancelled before that (below).
    let (id, target) = unsafe {
        ep.post_recv(
            filter,
            buf.as_mut_ptr().cast::<u8>(),
            std::mem::size_of_val(buf),
        )
    };
    let sent = to.ep.send(
        dst,
        to.ctx,
        send_tag,
        bytes_of(msg.as_slice()),
        Mode::Standard,
    );
    if let Err(e) = sent {
        if !ep.cancel_recv(id) {
            // It completed meanwhile: report the send's failure all the same.
            let _ = target.take();
        }
        return Err(e);
    }
    let a = ep.wait_recv(What::Recv(filter), id, &target)?;
    status_sized(
        from.local_rank(a.source),
        a.tag,
        a.len,
        cap,
        std::mem::size_of::<B::Item>(),
    )
}

/// Sends `buf` to `destination` with `send_tag`, then replaces its contents with a message
/// from `source` with `receive_tag` (MPI's `MPI_Sendrecv_replace`; the outgoing data is
/// copied aside first, so this costs one extra copy).
///
/// # Errors
///
/// As [`send_receive_into_with_tags`].
///
/// # Examples
///
/// ```
/// use pip_comm::prelude::*;
/// pip_comm::run(3, |world| {
///     let (me, n) = (world.rank(), world.size());
///     let (next, prev) = (world.process_at_rank((me + 1) % n), world.process_at_rank((me + n - 1) % n));
///     let mut v = [me; 4];
///     pip_comm::send_receive_replace_into(&mut v[..], &next, 1, &prev, 1).unwrap();
///     assert_eq!(v, [(me + n - 1) % n; 4]);
/// })
/// .unwrap();
/// ```
pub fn send_receive_replace_into<B, D, S>(
    buf: &mut B,
    destination: &D,
    send_tag: Tag,
    source: &S,
    receive_tag: Tag,
) -> Result<Status>
where
    B: BufferMut + ?Sized,
    D: Destination,
    S: Source,
{
    let out: Vec<B::Item> = buf.as_mut_slice().to_vec();
    send_receive_into_with_tags(&out[..], destination, send_tag, buf, source, receive_tag)
}

/// The former send-receive methods, kept for one release.
impl SimpleCommunicator {
    /// The former form of [`send_receive_into_with_tags`], with ranks (`source` may be
    /// [`ANY_SOURCE`]).
    ///
    /// # Errors
    ///
    /// As [`send_receive_into_with_tags`].
    #[deprecated(since = "0.2.0", note = "use `pip_comm::send_receive_into_with_tags`")]
    #[allow(clippy::too_many_arguments)]
    pub fn sendrecv<S, R>(
        &self,
        send_buf: &S,
        dest: Rank,
        send_tag: Tag,
        recv_buf: &mut R,
        source: Rank,
        recv_tag: Tag,
    ) -> Result<Status>
    where
        S: Buffer + ?Sized,
        R: BufferMut + ?Sized,
    {
        let (to, from) = (self.peer_at(dest), self.peer_at(source));
        send_receive_into_with_tags(send_buf, &to, send_tag, recv_buf, &from, recv_tag)
    }

    /// The former form of [`send_receive_replace_into`], with ranks.
    ///
    /// # Errors
    ///
    /// As [`send_receive_replace_into`].
    #[deprecated(since = "0.2.0", note = "use `pip_comm::send_receive_replace_into`")]
    pub fn sendrecv_replace<B: BufferMut + ?Sized>(
        &self,
        buf: &mut B,
        dest: Rank,
        send_tag: Tag,
        source: Rank,
        recv_tag: Tag,
    ) -> Result<Status> {
        let (to, from) = (self.peer_at(dest), self.peer_at(source));
        send_receive_replace_into(buf, &to, send_tag, &from, recv_tag)
    }

    fn peer_at(&self, rank: Rank) -> crate::Process<'_> {
        crate::Process { comm: self, rank }
    }
}
