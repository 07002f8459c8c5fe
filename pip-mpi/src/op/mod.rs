//! Reduction operations: the predefined ones (`MPI_SUM`, ..., `MPI_MINLOC`, and `MPI_REPLACE`/
//! `MPI_NO_OP` for accumulates) as byte kernels, and the user's (`MPI_Op_create`).
//!
//! An operation is applied as `inout[i] = input[i] op inout[i]` over `count` elements of a
//! datatype ([`apply`]). A predefined operation needs a type whose every byte belongs to one
//! predefined type (`Datatype::basic`: a predefined type, or a derived type built of one);
//! [`check`] says whether the operation is defined for that type, following the standard's
//! table of type groups:
//!
//! | group | types | operations |
//! |---|---|---|
//! | C integer | `MPI_INT`, `MPI_UNSIGNED`, `MPI_LONG_LONG`, `MPI_INT8_T`..., `MPI_[UN]SIGNED_CHAR`, `MPI_AINT`... | `MAX MIN SUM PROD LAND LOR LXOR BAND BOR BXOR` |
//! | floating point | `MPI_FLOAT`, `MPI_DOUBLE` | `MAX MIN SUM PROD` |
//! | logical | `MPI_C_BOOL` | `LAND LOR LXOR` |
//! | complex | `MPI_C_FLOAT_COMPLEX`, `MPI_C_DOUBLE_COMPLEX` | `SUM PROD` |
//! | byte | `MPI_BYTE` | `BAND BOR BXOR` |
//! | pair | `MPI_2INT`, `MPI_FLOAT_INT`, `MPI_DOUBLE_INT`, `MPI_LONG_INT`, `MPI_SHORT_INT` | `MINLOC MAXLOC` |
//!
//! `MPI_REPLACE` and `MPI_NO_OP` apply to every type. `MPI_CHAR` and `MPI_WCHAR` are treated
//! as C integers (the standard leaves them out of the group). `long double` is x87 extended
//! precision, which Rust has no arithmetic for: `MPI_LONG_DOUBLE`, `MPI_C_LONG_DOUBLE_COMPLEX`
//! and `MPI_LONG_DOUBLE_INT` take only `MPI_REPLACE` and `MPI_NO_OP`; any other predefined
//! operation on them fails with `MPI_ERR_OP` saying so.
//!
//! A contiguous type is reduced where it lies; any other is packed into temporaries, reduced
//! there, and the result unpacked into `inout`. A user operation is called once per [`apply_on`]
//! over the whole buffer, with the caller's datatype handle.
//!
//! User operations live in a per-rank table; their handles start after the predefined ones
//! (at [`FIRST_USER_OP`]).

mod kernel;

pub use kernel::Predefined;

use crate::datatype::{self, Basic, Datatype};
use crate::error::{call, fail, Result, MPI_ERR_ARG, MPI_ERR_OP};
use crate::handle::{Handle, MPI_OP_NULL};
use crate::state::Table;
use std::cell::RefCell;
use std::ffi::{c_int, c_void};

/// The first handle of a user operation.
pub const FIRST_USER_OP: Handle = 33;

/// `MPI_User_function`.
pub type UserFunction = unsafe extern "C" fn(*mut c_void, *mut c_void, *mut c_int, *mut Handle);

/// A user operation made by `MPI_Op_create`.
#[derive(Clone, Copy)]
struct UserOp {
    f: UserFunction,
    commute: bool,
}

thread_local! {
    static USER_OPS: RefCell<Table<UserOp>> =
        const { RefCell::new(Table::new(FIRST_USER_OP as usize)) };
}

/// Drops every user operation; called by `MPI_Finalize`.
pub fn finalize() {
    USER_OPS.with(|t| t.borrow_mut().clear());
}

/// What an operation handle names.
#[derive(Clone, Copy)]
enum Kind {
    Predefined(Predefined),
    User(UserOp),
}

fn kind(op: Handle) -> Result<Kind> {
    if let Some(p) = Predefined::of(op) {
        return Ok(Kind::Predefined(p));
    }
    if op == MPI_OP_NULL {
        return fail(MPI_ERR_OP, "the operation is MPI_OP_NULL");
    }
    USER_OPS
        .with(|t| t.borrow().get(op).copied())
        .map(Kind::User)
        .ok_or_else(|| {
            crate::error::Error::new(MPI_ERR_OP, format!("{op} is not an operation of this rank"))
        })
}

/// The predefined operation of `op` (`None` for a user operation); fails if `op` is no
/// operation.
pub fn predefined(op: Handle) -> Result<Option<Predefined>> {
    Ok(match kind(op)? {
        Kind::Predefined(p) => Some(p),
        Kind::User(_) => None,
    })
}

/// True if `op` is commutative (every predefined operation is).
pub fn commutative(op: Handle) -> Result<bool> {
    Ok(match kind(op)? {
        Kind::Predefined(_) => true,
        Kind::User(u) => u.commute,
    })
}

/// Which predefined operations a basic kind takes (see the module documentation's table).
fn defined(p: Predefined, b: Basic) -> bool {
    use Basic::*;
    use Predefined::*;
    let arith = matches!(p, Max | Min | Sum | Prod);
    let logical = matches!(p, Land | Lor | Lxor);
    let bitwise = matches!(p, Band | Bor | Bxor);
    match b {
        Char | I8 | U8 | WChar | I16 | U16 | I32 | U32 | I64 | U64 => arith || logical || bitwise,
        F32 | F64 | LongDouble => arith,
        Bool => logical,
        ComplexF32 | ComplexF64 | ComplexLongDouble => matches!(p, Sum | Prod),
        Byte => bitwise,
        FloatInt | DoubleInt | LongInt | TwoInt | ShortInt | LongDoubleInt => {
            matches!(p, MinLoc | MaxLoc)
        }
        Packed => false,
    }
}

/// Fails with `MPI_ERR_OP` unless operation `op` is defined for datatype `dt` (see the module
/// documentation). User operations are defined for every type.
pub fn check(op: Handle, dt: &Datatype) -> Result<()> {
    match kind(op)? {
        Kind::User(_) => Ok(()),
        Kind::Predefined(p) => check_predefined(p, dt),
    }
}

/// [`check`] for a predefined operation.
fn check_predefined(p: Predefined, dt: &Datatype) -> Result<()> {
    if matches!(p, Predefined::Replace | Predefined::NoOp) {
        return Ok(());
    }
    let Some((b, _)) = dt.basic else {
        return fail(
            MPI_ERR_OP,
            format!(
                "{} needs a datatype made of one predefined type; {} mixes several",
                p.name(),
                dt.name
            ),
        );
    };
    if !defined(p, b) {
        return fail(
            MPI_ERR_OP,
            format!("{} is not defined for {}", p.name(), type_name(dt)),
        );
    }
    if matches!(
        b,
        Basic::LongDouble | Basic::ComplexLongDouble | Basic::LongDoubleInt
    ) {
        return fail(
            MPI_ERR_OP,
            format!(
                "{} on {} is not supported: pip-mpi has no x87 extended-precision arithmetic \
                 for long double (only MPI_REPLACE and MPI_NO_OP apply)",
                p.name(),
                type_name(dt)
            ),
        );
    }
    Ok(())
}

fn type_name(dt: &Datatype) -> String {
    if dt.name.is_empty() {
        "this derived datatype".into()
    } else {
        dt.name.clone()
    }
}

/// Applies predefined operation `op` as `inout[i] = input[i] op inout[i]` over `count` elements
/// of `dt` (see the module documentation). User operations need the datatype's handle: use
/// [`apply_on`] for them (this fails with `MPI_ERR_OP` on one).
///
/// # Safety
///
/// `input` holds `count` readable and `inout` `count` read-writable elements of `dt`.
// The entry of the one-sided accumulates (which take predefined operations only).
#[allow(dead_code)]
pub unsafe fn apply(
    op: Handle,
    dt: &Datatype,
    count: usize,
    input: *const u8,
    inout: *mut u8,
) -> Result<()> {
    match kind(op)? {
        Kind::User(_) => fail(
            MPI_ERR_OP,
            "a user-defined operation cannot be used here (only predefined operations)",
        ),
        // SAFETY: forwarded from the caller.
        Kind::Predefined(p) => unsafe { apply_predefined(p, dt, count, input, inout) },
    }
}

/// [`apply`] for any operation: a user operation is called with `&dtype` as its datatype
/// argument (the handle of `dt`).
///
/// # Safety
///
/// As [`apply`].
pub unsafe fn apply_on(
    op: Handle,
    dtype: Handle,
    dt: &Datatype,
    count: usize,
    input: *const u8,
    inout: *mut u8,
) -> Result<()> {
    match kind(op)? {
        Kind::User(u) => {
            let mut len = c_int::try_from(count).map_err(|_| {
                crate::error::Error::new(MPI_ERR_ARG, format!("count {count} exceeds an int"))
            })?;
            let mut h = dtype;
            // SAFETY: the user function reads `len` elements of `dtype` at `input` and updates
            // those at `inout`, which the caller guarantees; `len` and `h` live across the call.
            unsafe { (u.f)(input as *mut c_void, inout.cast(), &mut len, &mut h) };
            Ok(())
        }
        // SAFETY: forwarded from the caller.
        Kind::Predefined(p) => unsafe { apply_predefined(p, dt, count, input, inout) },
    }
}

/// # Safety
///
/// As [`apply`].
unsafe fn apply_predefined(
    p: Predefined,
    dt: &Datatype,
    count: usize,
    input: *const u8,
    inout: *mut u8,
) -> Result<()> {
    if p == Predefined::NoOp || count == 0 || dt.size == 0 {
        return Ok(());
    }
    if p == Predefined::Replace {
        for i in 0..count as isize {
            for &(off, len) in &dt.blocks {
                let at = i * dt.extent + off;
                // SAFETY: the caller guarantees every block of every element is inside both
                // buffers; `copy` allows the two to be the same.
                unsafe {
                    std::ptr::copy(input.wrapping_offset(at), inout.wrapping_offset(at), len)
                };
            }
        }
        return Ok(());
    }
    check_predefined(p, dt)?;
    let (b, per) = dt.basic.expect("checked");
    let n = count * per;
    if dt.is_contiguous() {
        // SAFETY: a contiguous element is `per` packed basic elements; the caller guarantees
        // `count` of them in both buffers.
        unsafe { kernel::apply(p, b, n, input, inout) };
        return Ok(());
    }
    let (mut a, mut c) = (Vec::new(), Vec::new());
    // SAFETY: the caller guarantees `count` elements of `dt` in both buffers.
    unsafe {
        datatype::pack(dt, count, input, &mut a);
        datatype::pack(dt, count, inout, &mut c);
    }
    debug_assert_eq!(a.len(), n * kernel::packed_size(b));
    // SAFETY: both temporaries hold `n` packed elements of `b`.
    unsafe { kernel::apply(p, b, n, a.as_ptr(), c.as_mut_ptr()) };
    // SAFETY: the caller guarantees `inout`'s elements are writable.
    unsafe { datatype::unpack(dt, &c, inout) };
    Ok(())
}

/// Stores a user operation and returns its handle.
pub fn create(f: UserFunction, commute: bool) -> Handle {
    USER_OPS.with(|t| t.borrow_mut().insert(UserOp { f, commute }))
}

/// `MPI_Op_create`: a user operation calling `user_fn(in, inout, &len, &datatype)`;
/// `commute` says whether it is commutative (a non-commutative one is applied in rank order).
#[no_mangle]
pub unsafe extern "C" fn MPI_Op_create(
    user_fn: Option<UserFunction>,
    commute: c_int,
    op: *mut Handle,
) -> c_int {
    call("MPI_Op_create", || {
        crate::state::require_running()?;
        let Some(f) = user_fn else {
            return fail(MPI_ERR_ARG, "user_fn is a null function pointer");
        };
        let out = crate::comm::out(op)?;
        let h = create(f, commute != 0);
        // SAFETY: `out` is a non-null MPI_Op pointer from the caller.
        unsafe { *out = h };
        Ok(())
    })
}

/// `MPI_Op_free`: frees a user operation and sets `*op` to `MPI_OP_NULL`.
#[no_mangle]
pub unsafe extern "C" fn MPI_Op_free(op: *mut Handle) -> c_int {
    call("MPI_Op_free", || {
        crate::state::require_running()?;
        let p = crate::comm::out(op)?;
        // SAFETY: `p` is a non-null MPI_Op pointer from the caller.
        let h = unsafe { *p };
        if Predefined::of(h).is_some() {
            return fail(MPI_ERR_OP, "a predefined operation cannot be freed");
        }
        if USER_OPS.with(|t| t.borrow_mut().remove(h)).is_none() {
            return fail(
                MPI_ERR_OP,
                format!("{h} is not a user operation of this rank"),
            );
        }
        // SAFETY: as above.
        unsafe { *p = MPI_OP_NULL };
        Ok(())
    })
}

/// `MPI_Op_commutative`: 1 for the predefined operations, the creator's `commute` for a user one.
#[no_mangle]
pub unsafe extern "C" fn MPI_Op_commutative(op: Handle, commute: *mut c_int) -> c_int {
    call("MPI_Op_commutative", || {
        crate::state::require_running()?;
        let c = commutative(op)?;
        // SAFETY: a non-null int pointer from the caller.
        unsafe { *crate::comm::out(commute)? = c as c_int };
        Ok(())
    })
}

/// `MPI_Reduce_local`: `inoutbuf[i] = inbuf[i] op inoutbuf[i]` for `count` elements.
#[no_mangle]
pub unsafe extern "C" fn MPI_Reduce_local(
    inbuf: *const c_void,
    inoutbuf: *mut c_void,
    count: c_int,
    datatype: Handle,
    op: Handle,
) -> c_int {
    call("MPI_Reduce_local", || {
        crate::state::require_running()?;
        let n = crate::state::count(count, crate::error::MPI_ERR_COUNT, "count")?;
        let dt = datatype::get_committed(datatype)?;
        check(op, &dt)?;
        if n > 0 && (inbuf.is_null() || inoutbuf.is_null()) {
            return fail(
                crate::error::MPI_ERR_BUFFER,
                "inbuf or inoutbuf is a null pointer",
            );
        }
        // SAFETY: the caller passes buffers of `count` elements of `datatype`, as MPI requires.
        unsafe { apply_on(op, datatype, &dt, n, inbuf.cast(), inoutbuf.cast()) }
    })
}

#[cfg(test)]
mod tests;
