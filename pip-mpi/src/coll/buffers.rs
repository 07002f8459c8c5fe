//! C buffers as byte slices for pip-comm's collectives: [`Bytes`] (data to send), [`Landing`]
//! (a receive buffer) and [`Pieces`] (a buffer cut into one piece per rank, for the `v`
//! variants). A contiguous datatype is used where it lies; any other goes through a packed
//! temporary (see the parent module).

use super::Typed;
use crate::datatype::{self, Datatype};
use pip_comm::{Partition, PartitionMut};
use std::borrow::Cow;
use std::ffi::c_void;

/// A byte slice of `len` bytes at `p` (any pointer serves zero bytes).
///
/// # Safety
///
/// `p` is readable for `len` bytes for `'a`.
unsafe fn slice<'a>(p: *const u8, len: usize) -> &'a [u8] {
    if len == 0 {
        return &[];
    }
    // SAFETY: forwarded from the caller.
    unsafe { std::slice::from_raw_parts(p, len) }
}

/// A mutable byte slice of `len` bytes at `p`.
///
/// # Safety
///
/// `p` is writable for `len` bytes for `'a`, and nothing else accesses them meanwhile.
unsafe fn slice_mut<'a>(p: *mut u8, len: usize) -> &'a mut [u8] {
    if len == 0 {
        return &mut [];
    }
    // SAFETY: forwarded from the caller.
    unsafe { std::slice::from_raw_parts_mut(p, len) }
}

/// The data of `t.n` elements at a C buffer, in type-map order.
pub struct Bytes<'a>(Cow<'a, [u8]>);

impl<'a> Bytes<'a> {
    /// Borrows a contiguous buffer, packs any other.
    ///
    /// # Safety
    ///
    /// `p` holds `t.n` readable elements of `t.dt` for `'a`.
    pub unsafe fn new(p: *const c_void, t: &Typed) -> Bytes<'a> {
        let p = p.cast::<u8>();
        if t.dt.is_contiguous() {
            // SAFETY: forwarded from the caller; contiguous data is `bytes()` bytes at `p`.
            Bytes(Cow::Borrowed(unsafe { slice(p, t.bytes()) }))
        } else {
            let mut v = Vec::new();
            // SAFETY: forwarded from the caller.
            unsafe { datatype::pack(&t.dt, t.n, p, &mut v) };
            Bytes(Cow::Owned(v))
        }
    }

    /// A copy that borrows nothing (for data read from a buffer that is also received into).
    pub fn into_owned(self) -> Bytes<'static> {
        Bytes(Cow::Owned(self.0.into_owned()))
    }

    /// The bytes.
    pub fn get(&self) -> &[u8] {
        &self.0
    }
}

impl From<Vec<u8>> for Bytes<'static> {
    fn from(v: Vec<u8>) -> Self {
        Bytes(Cow::Owned(v))
    }
}

/// A receive buffer of `t.n` elements, as bytes: the buffer itself when contiguous, else a
/// temporary that [`Landing::finish`] unpacks into it.
pub struct Landing {
    p: *mut u8,
    dt: std::rc::Rc<Datatype>,
    len: usize,
    temp: Option<Vec<u8>>,
}

impl Landing {
    /// # Safety
    ///
    /// `p` holds `t.n` writable elements of `t.dt` until [`Landing::finish`].
    pub unsafe fn new(p: *mut c_void, t: &Typed) -> Landing {
        let temp = (!t.dt.is_contiguous()).then(|| vec![0u8; t.bytes()]);
        Landing {
            p: p.cast(),
            dt: t.dt.clone(),
            len: t.bytes(),
            temp,
        }
    }

    /// The bytes to receive into.
    pub fn get(&mut self) -> &mut [u8] {
        match &mut self.temp {
            Some(v) => v,
            // SAFETY: `new`'s caller guarantees the `len` bytes of a contiguous buffer.
            None => unsafe { slice_mut(self.p, self.len) },
        }
    }

    /// Unpacks a temporary into the buffer.
    pub fn finish(self) {
        if let Some(v) = &self.temp {
            // SAFETY: `new`'s caller guarantees the buffer's elements are writable.
            unsafe { datatype::unpack(&self.dt, v, self.p) };
        }
    }
}

/// A buffer cut into one piece per rank: piece `r` is `counts[r]` elements of `dt` at element
/// `displs[r]` (in units of the extent). As bytes, it is the buffer itself (byte counts and
/// byte displacements) when the type is contiguous and no displacement is negative, else a
/// temporary with the pieces end to end.
pub struct Pieces {
    base: *mut u8,
    dt: std::rc::Rc<Datatype>,
    counts: Vec<usize>,
    displs: Vec<isize>,
    bcounts: Vec<usize>,
    bdispls: Vec<usize>,
    temp: Option<Vec<u8>>,
    len: usize,
}

impl Pieces {
    /// The layout (not yet reading or writing the buffer).
    pub fn new(
        base: *const c_void,
        dt: &std::rc::Rc<Datatype>,
        counts: &[isize],
        displs: &[isize],
    ) -> Pieces {
        let counts: Vec<usize> = counts.iter().map(|&c| c as usize).collect();
        let bcounts: Vec<usize> = counts.iter().map(|c| c * dt.size).collect();
        let direct = dt.is_contiguous() && displs.iter().all(|&d| d >= 0);
        let (bdispls, temp, len) = if direct {
            let bd: Vec<usize> = displs
                .iter()
                .map(|&d| d as usize * dt.extent as usize)
                .collect();
            let len = bd
                .iter()
                .zip(&bcounts)
                .map(|(d, c)| d + c)
                .max()
                .unwrap_or(0);
            (bd, None, len)
        } else {
            let bd = pip_comm::collective::displacements(&bcounts);
            let len = bcounts.iter().sum();
            (bd, Some(vec![0u8; len]), len)
        };
        Pieces {
            base: base as *mut u8,
            dt: dt.clone(),
            counts,
            displs: displs.to_vec(),
            bcounts,
            bdispls,
            temp,
            len,
        }
    }

    fn at(&self, r: usize) -> *mut u8 {
        self.base.wrapping_offset(self.displs[r] * self.dt.extent)
    }

    /// Packs piece `r` of the buffer.
    ///
    /// # Safety
    ///
    /// Piece `r` of the buffer is readable.
    pub unsafe fn piece(&self, r: usize) -> Vec<u8> {
        let mut v = Vec::new();
        // SAFETY: forwarded from the caller.
        unsafe { datatype::pack(&self.dt, self.counts[r], self.at(r), &mut v) };
        v
    }

    /// The pieces to send, as a partition of bytes (packing them first if needed).
    ///
    /// # Safety
    ///
    /// Every piece of the buffer is readable while the partition lives.
    pub unsafe fn send(&mut self) -> Partition<'_, [u8]> {
        if self.temp.is_some() {
            // SAFETY: forwarded from the caller.
            let packed: Vec<Vec<u8>> = (0..self.counts.len())
                .map(|r| unsafe { self.piece(r) })
                .collect();
            if let Some(temp) = &mut self.temp {
                for (r, p) in packed.iter().enumerate() {
                    let d = self.bdispls[r];
                    temp[d..d + p.len()].copy_from_slice(p);
                }
            }
        }
        let buf: &[u8] = match &self.temp {
            Some(v) => v,
            // SAFETY: forwarded from the caller: the pieces lie within `len` bytes of `base`.
            None => unsafe { slice(self.base, self.len) },
        };
        Partition::new(buf, &self.bcounts, &self.bdispls)
    }

    /// The pieces to receive into, as a partition of bytes; call [`Pieces::finish`] after.
    ///
    /// # Safety
    ///
    /// Every piece of the buffer is writable while the partition lives.
    pub unsafe fn recv(&mut self) -> PartitionMut<'_, [u8]> {
        let buf: &mut [u8] = match &mut self.temp {
            Some(v) => v,
            // SAFETY: forwarded from the caller.
            None => unsafe { slice_mut(self.base, self.len) },
        };
        PartitionMut::new(buf, &self.bcounts, &self.bdispls)
    }

    /// Unpacks the received pieces from a temporary into the buffer.
    ///
    /// # Safety
    ///
    /// Every piece of the buffer is writable.
    pub unsafe fn finish(&self) {
        if let Some(v) = &self.temp {
            for r in 0..self.counts.len() {
                let d = self.bdispls[r];
                // SAFETY: forwarded from the caller.
                unsafe { datatype::unpack(&self.dt, &v[d..d + self.bcounts[r]], self.at(r)) };
            }
        }
    }

    /// The byte counts of the pieces.
    pub fn byte_counts(&self) -> &[usize] {
        &self.bcounts
    }
}
