//! The byte kernels of the predefined operations: `inout[i] = input[i] op inout[i]` over `n`
//! packed elements of one [`Basic`] kind (elements back to back, pair types as the value
//! followed by the `int` index with no padding, as [`crate::datatype::pack`] lays them out).
//!
//! Buffers come from C and may be unaligned inside derived types, so every element is read
//! and written with unaligned loads and stores. Integer arithmetic wraps (C's unsigned
//! arithmetic, and what every MPI library does for signed overflow in practice); the logical
//! operations treat non-zero as true and store 0 or 1.

use crate::datatype::Basic;
use crate::handle::*;

/// A predefined operation that [`apply`] implements (the caller has checked the pairing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Predefined {
    Max,
    Min,
    Sum,
    Prod,
    Land,
    Band,
    Lor,
    Bor,
    Lxor,
    Bxor,
    MinLoc,
    MaxLoc,
    Replace,
    NoOp,
}

impl Predefined {
    /// The predefined operation of handle `op`, if it is one.
    pub fn of(op: Handle) -> Option<Predefined> {
        use Predefined::*;
        Some(match op {
            MPI_MAX => Max,
            MPI_MIN => Min,
            MPI_SUM => Sum,
            MPI_PROD => Prod,
            MPI_LAND => Land,
            MPI_BAND => Band,
            MPI_LOR => Lor,
            MPI_BOR => Bor,
            MPI_LXOR => Lxor,
            MPI_BXOR => Bxor,
            MPI_MINLOC => MinLoc,
            MPI_MAXLOC => MaxLoc,
            MPI_REPLACE => Replace,
            MPI_NO_OP => NoOp,
            _ => return None,
        })
    }

    /// The name of the operation in `mpi.h`.
    pub fn name(self) -> &'static str {
        use Predefined::*;
        match self {
            Max => "MPI_MAX",
            Min => "MPI_MIN",
            Sum => "MPI_SUM",
            Prod => "MPI_PROD",
            Land => "MPI_LAND",
            Band => "MPI_BAND",
            Lor => "MPI_LOR",
            Bor => "MPI_BOR",
            Lxor => "MPI_LXOR",
            Bxor => "MPI_BXOR",
            MinLoc => "MPI_MINLOC",
            MaxLoc => "MPI_MAXLOC",
            Replace => "MPI_REPLACE",
            NoOp => "MPI_NO_OP",
        }
    }
}

/// The packed size of one element of `b` (pair types without their padding).
pub fn packed_size(b: Basic) -> usize {
    use Basic::*;
    match b {
        Char | I8 | U8 | Byte | Bool | Packed => 1,
        I16 | U16 => 2,
        WChar | I32 | U32 | F32 => 4,
        I64 | U64 | F64 | ComplexF32 | FloatInt | TwoInt => 8,
        ShortInt => 6,
        DoubleInt | LongInt => 12,
        LongDouble | ComplexF64 => 16,
        LongDoubleInt => 20,
        ComplexLongDouble => 32,
    }
}

/// Reads a `T` at byte `i * size_of::<T>() + off` of `p`.
///
/// # Safety
///
/// The bytes are readable.
unsafe fn ld<T: Copy>(p: *const u8, at: usize) -> T {
    // SAFETY: the caller guarantees the bytes are readable; the read is unaligned.
    unsafe { p.add(at).cast::<T>().read_unaligned() }
}

/// Writes a `T` at byte `at` of `p`.
///
/// # Safety
///
/// The bytes are writable.
unsafe fn st<T: Copy>(p: *mut u8, at: usize, v: T) {
    // SAFETY: the caller guarantees the bytes are writable; the write is unaligned.
    unsafe { p.add(at).cast::<T>().write_unaligned(v) }
}

/// Applies `f(in, inout)` to `n` elements of `T`.
///
/// # Safety
///
/// `input` holds `n` readable and `inout` `n` read-writable `T`s (unaligned is fine).
unsafe fn each<T: Copy>(n: usize, input: *const u8, inout: *mut u8, f: impl Fn(T, T) -> T) {
    let w = std::mem::size_of::<T>();
    for i in 0..n {
        // SAFETY: element `i` is inside both buffers (the caller's guarantee).
        unsafe {
            let r = f(ld::<T>(input, i * w), ld::<T>(inout, i * w));
            st(inout, i * w, r);
        }
    }
}

macro_rules! int_kernel {
    ($name:ident, $t:ty) => {
        /// The integer operations on `$t`.
        ///
        /// # Safety
        ///
        /// As [`each`].
        unsafe fn $name(op: Predefined, n: usize, a: *const u8, b: *mut u8) {
            use Predefined::*;
            let f: fn($t, $t) -> $t = match op {
                Max => |x, y| x.max(y),
                Min => |x, y| x.min(y),
                Sum => |x, y| x.wrapping_add(y),
                Prod => |x, y| x.wrapping_mul(y),
                Land => |x, y| ((x != 0) && (y != 0)) as $t,
                Lor => |x, y| ((x != 0) || (y != 0)) as $t,
                Lxor => |x, y| ((x != 0) != (y != 0)) as $t,
                Band => |x, y| x & y,
                Bor => |x, y| x | y,
                Bxor => |x, y| x ^ y,
                MinLoc | MaxLoc | Replace | NoOp => unreachable!("handled by apply"),
            };
            // SAFETY: forwarded from the caller.
            unsafe { each::<$t>(n, a, b, f) }
        }
    };
}

int_kernel!(int_i8, i8);
int_kernel!(int_u8, u8);
int_kernel!(int_i16, i16);
int_kernel!(int_u16, u16);
int_kernel!(int_i32, i32);
int_kernel!(int_u32, u32);
int_kernel!(int_i64, i64);
int_kernel!(int_u64, u64);

macro_rules! float_kernel {
    ($name:ident, $t:ty) => {
        /// The floating-point operations on `$t` (max/min as C's `a > b ? a : b`).
        ///
        /// # Safety
        ///
        /// As [`each`].
        unsafe fn $name(op: Predefined, n: usize, a: *const u8, b: *mut u8) {
            use Predefined::*;
            let f: fn($t, $t) -> $t = match op {
                Max => |x, y| if x > y { x } else { y },
                Min => |x, y| if x < y { x } else { y },
                Sum => |x, y| x + y,
                Prod => |x, y| x * y,
                _ => unreachable!("checked by op::check"),
            };
            // SAFETY: forwarded from the caller.
            unsafe { each::<$t>(n, a, b, f) }
        }
    };
}

float_kernel!(float_f32, f32);
float_kernel!(float_f64, f64);

macro_rules! complex_kernel {
    ($name:ident, $t:ty) => {
        /// Complex sum and product on pairs of `$t` (real, imaginary).
        ///
        /// # Safety
        ///
        /// As [`each`], with elements of two `$t`.
        unsafe fn $name(op: Predefined, n: usize, a: *const u8, b: *mut u8) {
            let f: fn([$t; 2], [$t; 2]) -> [$t; 2] = match op {
                Predefined::Sum => |x, y| [x[0] + y[0], x[1] + y[1]],
                Predefined::Prod => |x, y| [x[0] * y[0] - x[1] * y[1], x[0] * y[1] + x[1] * y[0]],
                _ => unreachable!("checked by op::check"),
            };
            // SAFETY: forwarded from the caller.
            unsafe { each::<[$t; 2]>(n, a, b, f) }
        }
    };
}

complex_kernel!(complex_f32, f32);
complex_kernel!(complex_f64, f64);

/// MINLOC/MAXLOC on packed (value, int) pairs whose value is a `T`: the better value wins, a
/// tie takes the smaller index.
///
/// # Safety
///
/// `a` holds `n` readable and `b` `n` read-writable packed pairs.
unsafe fn loc<T: Copy + PartialOrd>(op: Predefined, n: usize, a: *const u8, b: *mut u8) {
    let v = std::mem::size_of::<T>();
    let w = v + 4;
    for i in 0..n {
        // SAFETY: pair `i` is inside both buffers (the caller's guarantee).
        unsafe {
            let (x, xi) = (ld::<T>(a, i * w), ld::<i32>(a, i * w + v));
            let (y, yi) = (ld::<T>(b, i * w), ld::<i32>(b, i * w + v));
            let better = if op == Predefined::MinLoc {
                x < y
            } else {
                x > y
            };
            let (r, ri) = if better {
                (x, xi)
            } else if x == y {
                (x, xi.min(yi))
            } else {
                (y, yi)
            };
            st(b, i * w, r);
            st(b, i * w + v, ri);
        }
    }
}

/// Applies the arithmetic, logical, bitwise or location operation `op` to `n` packed elements
/// of `b`. The pairing has been checked ([`super::check`]); `Replace` and `NoOp` are handled by
/// the caller.
///
/// # Safety
///
/// `a` holds `n * packed_size(b)` readable bytes and `inout` as many read-writable ones.
pub unsafe fn apply(op: Predefined, b: Basic, n: usize, a: *const u8, inout: *mut u8) {
    use Basic::*;
    // SAFETY: forwarded from the caller; each kernel reads and writes `n` elements of its type.
    unsafe {
        match b {
            Char | I8 => int_i8(op, n, a, inout),
            U8 | Byte => int_u8(op, n, a, inout),
            Bool => int_u8(op, n, a, inout),
            I16 => int_i16(op, n, a, inout),
            U16 => int_u16(op, n, a, inout),
            WChar | I32 => int_i32(op, n, a, inout),
            U32 => int_u32(op, n, a, inout),
            I64 => int_i64(op, n, a, inout),
            U64 => int_u64(op, n, a, inout),
            F32 => float_f32(op, n, a, inout),
            F64 => float_f64(op, n, a, inout),
            ComplexF32 => complex_f32(op, n, a, inout),
            ComplexF64 => complex_f64(op, n, a, inout),
            FloatInt => loc::<f32>(op, n, a, inout),
            DoubleInt => loc::<f64>(op, n, a, inout),
            LongInt => loc::<i64>(op, n, a, inout),
            TwoInt => loc::<i32>(op, n, a, inout),
            ShortInt => loc::<i16>(op, n, a, inout),
            LongDouble | ComplexLongDouble | LongDoubleInt | Packed => {
                unreachable!("checked by op::check")
            }
        }
    }
}
