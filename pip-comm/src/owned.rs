//! Ownership transfer: a `Vec` moves between ranks by handing over its pointer, length and
//! capacity, in O(1) whatever its size.
//!
//! # Protocol
//!
//! The sender takes the `Vec` apart (it will never touch or free it again) and publishes an
//! `OWNED` envelope in its eager ring to the receiver: the slot's data area holds the
//! descriptor (pointer, length and capacity in bytes, alignment), the envelope's length is the
//! data's length in bytes. The slot's `SeqCst` publish (a release) makes the `Vec`'s contents
//! visible to the receiver, which acquires the slot as for any message (see
//! the `eager` module). From then on the receiver owns the allocation:
//!
//! * a receive that returns a `Vec` (`Source::receive_vec`,
//!   `recv_vec`) rebuilds the `Vec` from the parts when the
//!   element types agree in alignment and the byte sizes are whole elements: no copy;
//! * any other receive copies the bytes out and frees the allocation.
//!
//! A message that is never received is freed with the receiver's queues when its rank ends
//! (or leaked if it still sits in a ring when the world ends).
//!
//! # When it is allowed
//!
//! Only when every rank allocates from one heap: thread ranks ([`run`](crate::run)) and PiP
//! tasks with the `shared-libc` isolation (one libc, one malloc), provided the programs use
//! the system allocator (Rust's default; a program with its own `#[global_allocator]` must not
//! use `send_vec`). With `namespace` isolation each task has a malloc of its own and freeing
//! another task's memory corrupts it, so `Destination::send_vec`
//! refuses with [`Error::OwnershipTransferUnavailable`](crate::Error) and gives the `Vec`
//! back: send its contents with `Destination::send` instead.

use crate::Error;
use std::alloc::Layout;
use std::ptr::NonNull;

/// A handed-over `Vec`, as raw parts (bytes). Frees the allocation when dropped.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct OwnedVec {
    ptr: NonNull<u8>,
    len: usize,
    cap: usize,
    align: usize,
}

impl OwnedVec {
    /// The size of the descriptor in a slot.
    pub(crate) const DESC_LEN: usize = 32;

    /// Takes `v` apart. The caller must not let `T` be zero-sized.
    pub(crate) fn from_vec<T>(v: Vec<T>) -> OwnedVec {
        let size = std::mem::size_of::<T>();
        debug_assert!(size != 0);
        let mut v = std::mem::ManuallyDrop::new(v);
        OwnedVec {
            // SAFETY: a Vec's pointer is never null.
            ptr: unsafe { NonNull::new_unchecked(v.as_mut_ptr().cast::<u8>()) },
            len: v.len() * size,
            cap: v.capacity() * size,
            align: std::mem::align_of::<T>(),
        }
    }

    /// The descriptor written into the slot.
    pub(crate) fn desc(self) -> [u8; Self::DESC_LEN] {
        let this = std::mem::ManuallyDrop::new(self);
        let mut d = [0u8; Self::DESC_LEN];
        for (i, w) in [this.ptr.as_ptr() as usize, this.len, this.cap, this.align]
            .into_iter()
            .enumerate()
        {
            d[i * 8..i * 8 + 8].copy_from_slice(&(w as u64).to_ne_bytes());
        }
        d
    }

    /// Rebuilds the parts from a descriptor written by [`OwnedVec::desc`].
    pub(crate) fn from_desc(d: &[u8]) -> OwnedVec {
        let w = |i: usize| u64::from_ne_bytes(d[i * 8..i * 8 + 8].try_into().unwrap()) as usize;
        OwnedVec {
            ptr: NonNull::new(w(0) as *mut u8).expect("null pointer in an ownership envelope"),
            len: w(1),
            cap: w(2),
            align: w(3),
        }
    }

    /// The data.
    pub(crate) fn as_ptr(&self) -> *const u8 {
        self.ptr.as_ptr()
    }

    /// The `Vec<T>` again, if `T` fits the allocation (same alignment, whole elements);
    /// otherwise the parts back.
    pub(crate) fn into_vec<T>(self) -> Result<Vec<T>, OwnedVec> {
        let size = std::mem::size_of::<T>();
        if size == 0
            || std::mem::align_of::<T>() != self.align
            || self.len % size != 0
            || self.cap % size != 0
        {
            return Err(self);
        }
        let this = std::mem::ManuallyDrop::new(self);
        // SAFETY: the parts come from a `Vec` of elements with this alignment, whose allocation
        // is `cap` bytes (so `cap / size` elements of `T`) and whose first `len` bytes are
        // initialised; `T: Equivalence` (callers) is valid for any bytes; ownership moved to
        // us (the sender forgot the Vec) and every rank shares the allocator (checked by the
        // sender).
        Ok(unsafe {
            Vec::from_raw_parts(
                this.ptr.as_ptr().cast::<T>(),
                this.len / size,
                this.cap / size,
            )
        })
    }
}

impl Drop for OwnedVec {
    fn drop(&mut self) {
        if self.cap != 0 {
            let layout = Layout::from_size_align(self.cap, self.align).expect("a Vec's layout");
            // SAFETY: the allocation of a Vec with this capacity (bytes) and alignment, owned
            // by us, from the allocator every rank shares.
            unsafe { std::alloc::dealloc(self.ptr.as_ptr(), layout) };
        }
    }
}

/// A `send_vec` (of `pip_comm::traits::Destination`) that failed, with the `Vec` given back.
///
/// Converts into [`Error`] (dropping the `Vec`) so `?` works in functions that return
/// [`Result`](crate::Result).
///
/// ```
/// use pip_comm::prelude::*;
/// let e = pip_comm::run(2, |world| {
///     let err = world.process_at_rank(7).send_vec(vec![1u8, 2, 3]).unwrap_err();
///     assert_eq!(err.vec, [1, 2, 3]);
///     err.error.to_string()
/// })
/// .unwrap();
/// assert!(e[0].contains("rank 7 is out of range"));
/// ```
#[derive(Debug)]
pub struct SendVecError<T> {
    /// What went wrong.
    pub error: Error,
    /// The `Vec`, still the caller's.
    pub vec: Vec<T>,
}

impl<T> std::fmt::Display for SendVecError<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "send_vec: {}", self.error)
    }
}

impl<T: std::fmt::Debug> std::error::Error for SendVecError<T> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

impl<T> From<SendVecError<T>> for Error {
    fn from(e: SendVecError<T>) -> Error {
        e.error
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_survive_the_descriptor_and_rebuild_the_vec() {
        let mut v: Vec<u32> = Vec::with_capacity(10);
        v.extend([1, 2, 3]);
        let p = v.as_ptr();
        let o = OwnedVec::from_desc(&OwnedVec::from_vec(v).desc());
        assert_eq!((o.len, o.cap, o.align), (12, 40, 4));
        let o = o.into_vec::<u64>().unwrap_err();
        let back = o.into_vec::<u32>().unwrap();
        assert_eq!((back.as_ptr(), back.capacity()), (p, 10));
        assert_eq!(back, [1, 2, 3]);
        // Same alignment, other element size: whole elements in both length and capacity.
        let o = OwnedVec::from_vec(vec![[1u8, 2], [3, 4]]);
        assert_eq!(o.into_vec::<u8>().unwrap(), [1, 2, 3, 4]);
        // Dropping the parts frees them (run under a leak checker to see it).
        drop(OwnedVec::from_vec(vec![0u16; 100]));
        drop(OwnedVec::from_vec(Vec::<u16>::new()));
    }
}
