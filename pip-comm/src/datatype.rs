//! Which element types can travel in a message, and which buffers hold them.
//!
//! A message is a run of bytes. [`Equivalence`] marks the element types whose values are
//! nothing but their bytes, so a receiver may rebuild them from any bytes it is given;
//! [`Buffer`] and [`BufferMut`] view a value, a slice or a `Vec` of such elements as bytes.

/// An element type that may be sent and received as raw bytes.
///
/// Implemented for the integer and floating-point primitives and for arrays of
/// `Equivalence` types.
///
/// ```
/// use pip_comm::prelude::*;
/// use pip_comm::Equivalence;
/// fn takes<T: Equivalence>(_: &[T]) {}
/// takes(&[1u32, 2, 3]);
/// takes(&[[0.5f64; 4]; 2]);
/// ```
///
/// # Deriving it
///
/// `#[derive(Equivalence)]` (re-exported from the `pip-comm-derive` crate under the same
/// name) implements it for a `#[repr(C)]` struct whose fields are all `Equivalence` and
/// which has no padding; the struct must be `Copy`:
///
/// ```
/// use pip_comm::prelude::*;
/// use pip_comm::Equivalence;
///
/// #[derive(Equivalence, Clone, Copy, Debug, PartialEq)]
/// #[repr(C)]
/// struct Particle {
///     position: [f64; 3],
///     id: u32,
///     species: u32,
/// }
/// fn takes<T: Equivalence>(_: &[T]) {}
/// takes(&[Particle { position: [0.0; 3], id: 1, species: 2 }]);
/// ```
///
/// The derive refuses what could not travel as bytes. A struct with padding (here 4 bytes
/// after `id`) fails with "`Padded` has padding bytes":
///
/// ```compile_fail
/// use pip_comm::prelude::*;
/// #[derive(pip_comm::Equivalence, Clone, Copy)]
/// #[repr(C)]
/// struct Padded {
///     id: u32,
///     value: f64,
/// }
/// ```
///
/// A struct without `#[repr(C)]` (its layout is the compiler's choice):
///
/// ```compile_fail
/// use pip_comm::prelude::*;
/// #[derive(pip_comm::Equivalence, Clone, Copy)]
/// struct Unordered {
///     a: u32,
///     b: u32,
/// }
/// ```
///
/// A field that is not `Equivalence` (`bool` is not valid for every bit pattern):
///
/// ```compile_fail
/// use pip_comm::prelude::*;
/// #[derive(pip_comm::Equivalence, Clone, Copy)]
/// #[repr(C)]
/// struct Flagged {
///     flag: bool,
///     pad: [u8; 3],
/// }
/// ```
///
/// An enum:
///
/// ```compile_fail
/// use pip_comm::prelude::*;
/// #[derive(pip_comm::Equivalence, Clone, Copy)]
/// #[repr(C)]
/// enum Choice {
///     A,
///     B,
/// }
/// ```
///
/// # Safety
///
/// Implement it only for types that
///
/// * are `Copy` and have no padding bytes (every byte of a value is initialised, so it can be
///   read as a `u8`);
/// * are valid for **every** bit pattern (a receiver turns whatever bytes arrive into values:
///   `bool`, `char`, enums and references are not);
/// * own nothing and point to nothing that a receiving rank could misuse: ranks share one
///   address space, so a pointer would stay readable, but when tasks run with private libcs
///   (namespace isolation) heap ownership must never cross ranks.
pub unsafe trait Equivalence: Copy + Send + Sync + 'static {}

macro_rules! equivalence {
    ($($t:ty),*) => {
        $(
            // SAFETY: a primitive number: no padding, every bit pattern is a valid value.
            unsafe impl Equivalence for $t {}
        )*
    };
}

equivalence!(u8, u16, u32, u64, u128, usize, i8, i16, i32, i64, i128, isize, f32, f64);

// SAFETY: an array of `T` has no padding between elements and is valid for every bit pattern
// if `T` is (both guaranteed by `T: Equivalence`).
unsafe impl<T: Equivalence, const N: usize> Equivalence for [T; N] {}

/// Something that can be sent: a value, a slice or a `Vec` of [`Equivalence`] elements.
///
/// ```
/// use pip_comm::prelude::*;
/// use pip_comm::Buffer;
/// assert_eq!(7u16.as_slice(), &[7u16]);
/// assert_eq!(vec![1i64, 2].as_slice().len(), 2);
/// ```
pub trait Buffer {
    /// The element type.
    type Item: Equivalence;
    /// The elements to send.
    fn as_slice(&self) -> &[Self::Item];
}

/// Something that a message can be received into: a value, a slice or a `Vec` (whose current
/// length is the capacity of the receive) of [`Equivalence`] elements.
///
/// ```
/// use pip_comm::prelude::*;
/// use pip_comm::BufferMut;
/// let mut v = vec![0u8; 3];
/// assert_eq!(v.as_mut_slice().len(), 3);
/// ```
pub trait BufferMut {
    /// The element type.
    type Item: Equivalence;
    /// The elements to receive into.
    fn as_mut_slice(&mut self) -> &mut [Self::Item];
}

impl<T: Equivalence> Buffer for T {
    type Item = T;
    fn as_slice(&self) -> &[T] {
        std::slice::from_ref(self)
    }
}

impl<T: Equivalence> Buffer for [T] {
    type Item = T;
    fn as_slice(&self) -> &[T] {
        self
    }
}

impl<T: Equivalence> Buffer for Vec<T> {
    type Item = T;
    fn as_slice(&self) -> &[T] {
        self
    }
}

impl<T: Equivalence> BufferMut for T {
    type Item = T;
    fn as_mut_slice(&mut self) -> &mut [T] {
        std::slice::from_mut(self)
    }
}

impl<T: Equivalence> BufferMut for [T] {
    type Item = T;
    fn as_mut_slice(&mut self) -> &mut [T] {
        self
    }
}

impl<T: Equivalence> BufferMut for Vec<T> {
    type Item = T;
    fn as_mut_slice(&mut self) -> &mut [T] {
        self
    }
}

/// The bytes of a slice of elements.
pub(crate) fn bytes_of<T: Equivalence>(s: &[T]) -> &[u8] {
    // SAFETY: `T: Equivalence` has no padding, so all `size_of_val(s)` bytes are initialised;
    // the byte view borrows `s` for its whole lifetime.
    unsafe { std::slice::from_raw_parts(s.as_ptr().cast::<u8>(), std::mem::size_of_val(s)) }
}

/// A send buffer cut into one piece per rank, for the `varcount` collectives (rsmpi's
/// `Partition`): piece `r` is `counts[r]` elements starting at element `displs[r]`.
///
/// ```
/// use pip_comm::prelude::*;
/// use pip_comm::Partition;
/// let data = [1u8, 2, 3, 4, 5, 6];
/// let p = Partition::new(&data[..], &[1, 2, 3][..], &[0, 1, 3][..]);
/// assert_eq!((p.counts(), p.displs()), (&[1, 2, 3][..], &[0, 1, 3][..]));
/// let q = Partition::contiguous(&data[..], &[1, 2, 3][..]);
/// assert_eq!(q.displs(), &[0, 1, 3][..]);
/// ```
#[derive(Debug)]
pub struct Partition<'a, B: ?Sized> {
    pub(crate) buf: &'a B,
    counts: &'a [usize],
    displs: std::borrow::Cow<'a, [usize]>,
}

impl<'a, B: Buffer + ?Sized> Partition<'a, B> {
    /// Piece `r` of `buf` is `counts[r]` elements at `displs[r]` (counts and displacements
    /// in elements, checked by the collective).
    pub fn new(buf: &'a B, counts: &'a [usize], displs: &'a [usize]) -> Self {
        Partition {
            buf,
            counts,
            displs: displs.into(),
        }
    }

    /// The pieces laid end to end: the displacements are the prefix sums of `counts`
    /// (as `pip_comm::collective::displacements` gives them).
    pub fn contiguous(buf: &'a B, counts: &'a [usize]) -> Self {
        Partition {
            buf,
            counts,
            displs: end_to_end(counts).into(),
        }
    }

    /// The element count of each rank's piece.
    pub fn counts(&self) -> &[usize] {
        self.counts
    }

    /// The displacement of each rank's piece, in elements.
    pub fn displs(&self) -> &[usize] {
        &self.displs
    }
}

/// A receive buffer cut into one piece per rank, for the `varcount` collectives (rsmpi's
/// `PartitionMut`): rank `r`'s piece goes to `counts[r]` elements starting at element
/// `displs[r]`.
///
/// ```
/// use pip_comm::prelude::*;
/// use pip_comm::PartitionMut;
/// let mut data = [0u32; 4];
/// let p = PartitionMut::contiguous(&mut data[..], &[3, 1][..]);
/// assert_eq!(p.displs(), &[0, 3][..]);
/// ```
#[derive(Debug)]
pub struct PartitionMut<'a, B: ?Sized> {
    pub(crate) buf: &'a mut B,
    counts: &'a [usize],
    displs: std::borrow::Cow<'a, [usize]>,
}

impl<'a, B: BufferMut + ?Sized> PartitionMut<'a, B> {
    /// Rank `r`'s piece goes to `counts[r]` elements of `buf` at `displs[r]`.
    pub fn new(buf: &'a mut B, counts: &'a [usize], displs: &'a [usize]) -> Self {
        PartitionMut {
            buf,
            counts,
            displs: displs.into(),
        }
    }

    /// The pieces laid end to end (displacements from the prefix sums of `counts`).
    pub fn contiguous(buf: &'a mut B, counts: &'a [usize]) -> Self {
        PartitionMut {
            buf,
            counts,
            displs: end_to_end(counts).into(),
        }
    }

    /// The element count of each rank's piece.
    pub fn counts(&self) -> &[usize] {
        self.counts
    }

    /// The displacement of each rank's piece, in elements.
    pub fn displs(&self) -> &[usize] {
        &self.displs
    }

    /// The buffer and its layout, for a collective.
    pub(crate) fn parts(&mut self) -> (&mut B, &[usize], &[usize]) {
        (self.buf, self.counts, &self.displs)
    }
}

/// The displacements of pieces of `counts` elements laid end to end (prefix sums).
fn end_to_end(counts: &[usize]) -> Vec<usize> {
    counts
        .iter()
        .scan(0, |at, &c| {
            let d = *at;
            *at += c;
            Some(d)
        })
        .collect()
}
