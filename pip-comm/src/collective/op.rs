//! Reduction operations: the built-in ones ([`SystemOperation`]) and user closures
//! ([`UserOperation`]), both behind the [`Operation`] trait that the reducing collectives take.
//!
//! An operation combines an *input* vector into an *input-output* vector element by element:
//! `inout[i] = input[i] ∘ inout[i]`, the input coming from the lower rank (MPI's convention
//! for user functions). The result of a reduction over ranks `0..n` is
//! `x0 ∘ (x1 ∘ (... ∘ x(n-1)))`, so an associative but non-commutative operation gives the
//! same result as a serial left-to-right computation.

use crate::{Equivalence, Error, Result};

/// The built-in reductions (MPI's predefined operations).
///
/// Arithmetic ones (`sum`, `product`, `min`, `max`) work on every [`Reducible`] type (integer
/// sums and products wrap on overflow); bitwise and logical ones only on integers (logical
/// ones treat non-zero as true and give 1 or 0). Using one where it is not defined is
/// [`Error::InvalidOperation`].
///
/// ```
/// use pip_comm::prelude::*;
/// use pip_comm::SystemOperation;
/// let out = pip_comm::run(3, |world| {
///     let mut max = 0u32;
///     world.all_reduce_into(&(world.rank() as u32 * 10), &mut max, SystemOperation::max())?;
///     Ok::<_, pip_comm::Error>(max)
/// })
/// .unwrap();
/// assert!(out.iter().all(|r| *r.as_ref().unwrap() == 20));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SystemOperation(SysOp);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u32)]
enum SysOp {
    Sum = 1,
    Product,
    Min,
    Max,
    BitAnd,
    BitOr,
    BitXor,
    LogicalAnd,
    LogicalOr,
    LogicalXor,
}

impl SystemOperation {
    /// Addition (`MPI_SUM`).
    pub fn sum() -> Self {
        SystemOperation(SysOp::Sum)
    }
    /// Multiplication (`MPI_PROD`).
    pub fn product() -> Self {
        SystemOperation(SysOp::Product)
    }
    /// Minimum (`MPI_MIN`).
    pub fn min() -> Self {
        SystemOperation(SysOp::Min)
    }
    /// Maximum (`MPI_MAX`).
    pub fn max() -> Self {
        SystemOperation(SysOp::Max)
    }
    /// Bitwise and (`MPI_BAND`), integers only.
    pub fn bitwise_and() -> Self {
        SystemOperation(SysOp::BitAnd)
    }
    /// Bitwise or (`MPI_BOR`), integers only.
    pub fn bitwise_or() -> Self {
        SystemOperation(SysOp::BitOr)
    }
    /// Bitwise exclusive or (`MPI_BXOR`), integers only.
    pub fn bitwise_xor() -> Self {
        SystemOperation(SysOp::BitXor)
    }
    /// Logical and (`MPI_LAND`), integers only: 1 if both are non-zero, else 0.
    pub fn logical_and() -> Self {
        SystemOperation(SysOp::LogicalAnd)
    }
    /// Logical or (`MPI_LOR`), integers only.
    pub fn logical_or() -> Self {
        SystemOperation(SysOp::LogicalOr)
    }
    /// Logical exclusive or (`MPI_LXOR`), integers only.
    pub fn logical_xor() -> Self {
        SystemOperation(SysOp::LogicalXor)
    }

    /// The operation's name, as in messages.
    pub fn name(&self) -> &'static str {
        match self.0 {
            SysOp::Sum => "sum",
            SysOp::Product => "product",
            SysOp::Min => "min",
            SysOp::Max => "max",
            SysOp::BitAnd => "bitwise_and",
            SysOp::BitOr => "bitwise_or",
            SysOp::BitXor => "bitwise_xor",
            SysOp::LogicalAnd => "logical_and",
            SysOp::LogicalOr => "logical_or",
            SysOp::LogicalXor => "logical_xor",
        }
    }
}

/// A reduction operation over elements of type `T`, as the reducing collectives take it.
///
/// Implemented by [`SystemOperation`] (for [`Reducible`] types) and [`UserOperation`].
///
/// ```
/// use pip_comm::prelude::*;
/// use pip_comm::{Operation, SystemOperation};
/// let mut acc = [1i32, 5];
/// SystemOperation::sum().apply(&[10, 20], &mut acc);
/// assert_eq!(acc, [11, 25]);
/// ```
pub trait Operation<T> {
    /// `inout[i] = input[i] ∘ inout[i]` for every `i` (the slices have the same length).
    fn apply(&self, input: &[T], inout: &mut [T]);

    /// A number that identifies the operation, compared between ranks to catch a collective
    /// called with different operations (every user operation has the same code).
    fn code(&self) -> u32;

    /// Fails with [`Error::InvalidOperation`] if the operation is not defined for `T`.
    fn check(&self) -> Result<()> {
        Ok(())
    }
}

impl<T: Reducible> Operation<T> for SystemOperation {
    fn apply(&self, input: &[T], inout: &mut [T]) {
        let ok = T::reduce(*self, input, inout);
        debug_assert!(ok, "checked before use");
    }

    fn code(&self) -> u32 {
        self.0 as u32
    }

    fn check(&self) -> Result<()> {
        if T::supports(*self) {
            Ok(())
        } else {
            Err(Error::InvalidOperation {
                op: self.name(),
                ty: std::any::type_name::<T>(),
            })
        }
    }
}

impl<T, O: Operation<T> + ?Sized> Operation<T> for &O {
    fn apply(&self, input: &[T], inout: &mut [T]) {
        (**self).apply(input, inout)
    }
    fn code(&self) -> u32 {
        (**self).code()
    }
    fn check(&self) -> Result<()> {
        (**self).check()
    }
}

/// The operation code of every user operation.
pub(crate) const USER_CODE: u32 = 1000;

/// The name of the operation whose [`Operation::code`] is `code`, as in messages.
pub(crate) fn code_name(code: u32) -> &'static str {
    use SysOp::*;
    [
        Sum, Product, Min, Max, BitAnd, BitOr, BitXor, LogicalAnd, LogicalOr, LogicalXor,
    ]
    .into_iter()
    .find(|o| *o as u32 == code)
    .map_or(
        match code {
            USER_CODE => "a user operation",
            0 => "no operation",
            _ => "an unknown operation",
        },
        |o| SystemOperation(o).name(),
    )
}

/// A reduction given as a closure `f(input, inout)` that must set
/// `inout[i] = input[i] ∘ inout[i]`; `∘` must be associative. It runs only on the rank that
/// calls the collective, so it need not be `Send` or `Sync`.
///
/// ```
/// use pip_comm::prelude::*;
/// use pip_comm::UserOperation;
/// // Keep the element with the larger absolute value.
/// let absmax = UserOperation::new(|input: &[i64], inout: &mut [i64]| {
///     for (x, acc) in input.iter().zip(inout) {
///         if x.abs() > acc.abs() {
///             *acc = *x;
///         }
///     }
/// });
/// let out = pip_comm::run(3, |world| {
///     let mine = [world.rank() as i64 * if world.rank() == 1 { -5 } else { 1 }];
///     let mut r = [0i64];
///     world.all_reduce_into(&mine[..], &mut r[..], &absmax).unwrap();
///     r[0]
/// })
/// .unwrap();
/// assert_eq!(out, [-5, -5, -5]);
/// ```
pub struct UserOperation<F> {
    f: F,
}

impl<F> UserOperation<F> {
    /// Wraps `f(input, inout)`.
    pub fn new<T>(f: F) -> Self
    where
        F: Fn(&[T], &mut [T]),
    {
        UserOperation { f }
    }
}

impl<F> std::fmt::Debug for UserOperation<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UserOperation")
    }
}

impl<T: Equivalence, F: Fn(&[T], &mut [T])> Operation<T> for UserOperation<F> {
    fn apply(&self, input: &[T], inout: &mut [T]) {
        (self.f)(input, inout)
    }
    fn code(&self) -> u32 {
        USER_CODE
    }
}

/// Element types that the built-in reductions work on: the integer and floating-point
/// primitives.
///
/// ```
/// use pip_comm::prelude::*;
/// use pip_comm::{Reducible, SystemOperation};
/// assert!(<u8 as Reducible>::supports(SystemOperation::bitwise_xor()));
/// assert!(!<f32 as Reducible>::supports(SystemOperation::bitwise_xor()));
/// ```
pub trait Reducible: Equivalence + PartialOrd {
    /// True if `op` is defined for this type.
    fn supports(op: SystemOperation) -> bool;
    /// `inout[i] = input[i] ∘ inout[i]`; false (and nothing changed) if `op` is not defined
    /// for this type.
    fn reduce(op: SystemOperation, input: &[Self], inout: &mut [Self]) -> bool;
}

fn combine<T: Copy>(input: &[T], inout: &mut [T], f: impl Fn(T, T) -> T) {
    debug_assert_eq!(input.len(), inout.len());
    for (acc, &x) in inout.iter_mut().zip(input) {
        *acc = f(x, *acc);
    }
}

macro_rules! reducible_int {
    ($($t:ty),*) => {$(
        impl Reducible for $t {
            fn supports(_: SystemOperation) -> bool {
                true
            }
            fn reduce(op: SystemOperation, input: &[Self], inout: &mut [Self]) -> bool {
                let b = |v: bool| v as $t;
                match op.0 {
                    SysOp::Sum => combine(input, inout, |a, c| a.wrapping_add(c)),
                    SysOp::Product => combine(input, inout, |a, c| a.wrapping_mul(c)),
                    SysOp::Min => combine(input, inout, |a, c| a.min(c)),
                    SysOp::Max => combine(input, inout, |a, c| a.max(c)),
                    SysOp::BitAnd => combine(input, inout, |a, c| a & c),
                    SysOp::BitOr => combine(input, inout, |a, c| a | c),
                    SysOp::BitXor => combine(input, inout, |a, c| a ^ c),
                    SysOp::LogicalAnd => combine(input, inout, |a, c| b(a != 0 && c != 0)),
                    SysOp::LogicalOr => combine(input, inout, |a, c| b(a != 0 || c != 0)),
                    SysOp::LogicalXor => combine(input, inout, |a, c| b((a != 0) != (c != 0))),
                }
                true
            }
        }
    )*};
}

reducible_int!(u8, u16, u32, u64, u128, usize, i8, i16, i32, i64, i128, isize);

macro_rules! reducible_float {
    ($($t:ty),*) => {$(
        impl Reducible for $t {
            fn supports(op: SystemOperation) -> bool {
                matches!(op.0, SysOp::Sum | SysOp::Product | SysOp::Min | SysOp::Max)
            }
            fn reduce(op: SystemOperation, input: &[Self], inout: &mut [Self]) -> bool {
                match op.0 {
                    SysOp::Sum => combine(input, inout, |a, c| a + c),
                    SysOp::Product => combine(input, inout, |a, c| a * c),
                    SysOp::Min => combine(input, inout, |a, c| a.min(c)),
                    SysOp::Max => combine(input, inout, |a, c| a.max(c)),
                    _ => return false,
                }
                true
            }
        }
    )*};
}

reducible_float!(f32, f64);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_ops() {
        let x = [0b1100u8, 0, 3];
        let check = |op: SystemOperation, init: [u8; 3], want: [u8; 3]| {
            let mut acc = init;
            assert!(u8::reduce(op, &x, &mut acc));
            assert_eq!(acc, want, "{}", op.name());
        };
        check(SystemOperation::sum(), [1, 2, 255], [13, 2, 2]);
        check(SystemOperation::product(), [2, 2, 2], [24, 0, 6]);
        check(SystemOperation::min(), [5, 5, 5], [5, 0, 3]);
        check(SystemOperation::max(), [5, 5, 5], [12, 5, 5]);
        check(
            SystemOperation::bitwise_and(),
            [0b1010, 1, 1],
            [0b1000, 0, 1],
        );
        check(
            SystemOperation::bitwise_or(),
            [0b1010, 1, 1],
            [0b1110, 1, 3],
        );
        check(
            SystemOperation::bitwise_xor(),
            [0b1010, 1, 1],
            [0b0110, 1, 2],
        );
        check(SystemOperation::logical_and(), [7, 7, 0], [1, 0, 0]);
        check(SystemOperation::logical_or(), [0, 0, 0], [1, 0, 1]);
        check(SystemOperation::logical_xor(), [1, 1, 1], [0, 1, 0]);
    }

    #[test]
    fn floats_refuse_bitwise_and_logical() {
        let op = SystemOperation::bitwise_or();
        assert!(!f64::supports(op));
        let mut acc = [1.0f64];
        assert!(!f64::reduce(op, &[2.0], &mut acc));
        assert_eq!(acc, [1.0]);
        assert!(matches!(
            Operation::<f64>::check(&op),
            Err(Error::InvalidOperation {
                op: "bitwise_or",
                ty: "f64"
            })
        ));
        assert!(Operation::<f64>::check(&SystemOperation::min()).is_ok());
    }
}
