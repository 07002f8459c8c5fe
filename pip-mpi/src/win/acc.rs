//! The accumulates: `MPI_Accumulate`, `MPI_Get_accumulate`, `MPI_Fetch_and_op` and
//! `MPI_Compare_and_swap`. Each runs under the target's accumulate lock
//! ([Spin locks](super#spin-locks)), which makes it element-wise atomic with respect to the
//! other accumulates on that target. The origin's and the target's data are packed (type-map
//! order), combined with [`crate::op::apply`] over the packed elements of their one predefined
//! type, and the result unpacked into the target.

use super::rma::{same_size, At, Buf};
use super::{get, Win};
use crate::datatype::{Basic, Datatype};
use crate::error::{call_on, fail, On, Result, MPI_ERR_TYPE};
use crate::handle::{Handle, MPI_NO_OP};
use std::ffi::{c_int, c_void};

/// The datatype of one packed element of `dt`'s predefined type, for applying an operation to
/// packed data; fails with `MPI_ERR_TYPE` for a type made of several predefined types.
fn packed_element(dt: &Datatype, what: &str) -> Result<(Basic, Datatype)> {
    let Some((b, per)) = dt.basic.filter(|&(_, per)| per > 0) else {
        return fail(
            MPI_ERR_TYPE,
            format!("{what}: the datatype must be made of one predefined type"),
        );
    };
    let size = dt.size / per;
    let element = Datatype {
        blocks: vec![(0, size)],
        size,
        lb: 0,
        extent: size as isize,
        basic: Some((b, 1)),
        true_lb: 0,
        true_ub: size as isize,
        explicit_bounds: false,
        align: dt.align,
        elements: vec![(size, 1)],
        predefined: false,
        committed: true,
        name: dt.name.clone(),
    };
    Ok((b, element))
}

impl Win {
    /// `MPI_Get_accumulate` (and, with no `result`, `MPI_Accumulate`): under the target's
    /// accumulate lock, copies the target's data to `result`, then applies `op` with the
    /// origin's data into the target's. With `MPI_NO_OP` the origin is not read.
    ///
    /// # Safety
    ///
    /// `origin` is readable (unless the op is `MPI_NO_OP`), `result` writable.
    pub unsafe fn accumulate(
        &self,
        origin: &Buf,
        result: Option<&Buf>,
        at: At,
        op: Handle,
    ) -> Result<()> {
        let what = if result.is_some() {
            "MPI_Get_accumulate"
        } else {
            "MPI_Accumulate"
        };
        let Some(t) = self.target(at.rank)? else {
            return Ok(());
        };
        self.check_access(t, what)?;
        let to = self.target_buf(t, at.disp, at.count, at.dt)?;
        crate::op::check(op, &to.dt)?;
        let (b, element) = packed_element(&to.dt, what)?;
        let n = to.bytes() / element.size.max(1);
        if op != MPI_NO_OP {
            same_size(origin, &to, what)?;
            if origin.bytes() > 0 && origin.dt.basic.map(|x| x.0) != Some(b) {
                return fail(
                    MPI_ERR_TYPE,
                    format!("{what}: the origin's and the target's predefined types differ"),
                );
            }
        }
        if let Some(r) = result {
            same_size(r, &to, what)?;
        }
        self.ctl().with_acc_lock(t, || {
            // SAFETY: the target range is in its window (checked), the origin readable and the
            // result writable (the caller); the accumulate lock is held.
            unsafe {
                let mut data = to.read();
                if let Some(r) = result {
                    r.write(&data);
                }
                if op != MPI_NO_OP {
                    let input = origin.read();
                    crate::op::apply(op, &element, n, input.as_ptr(), data.as_mut_ptr())?;
                    to.write(&data);
                }
            }
            Ok(())
        })
    }

    /// `MPI_Compare_and_swap`: under the target's accumulate lock, copies the target's element
    /// to `result` and replaces it with `origin` if it equals `compare` (byte for byte).
    ///
    /// # Safety
    ///
    /// `origin` and `compare` readable, `result` writable, each one element of `dt`.
    pub unsafe fn compare_and_swap(
        &self,
        origin: *const u8,
        compare: *const u8,
        result: *mut u8,
        at: At,
    ) -> Result<()> {
        let Some(t) = self.target(at.rank)? else {
            return Ok(());
        };
        self.check_access(t, "MPI_Compare_and_swap")?;
        let to = self.target_buf(t, at.disp, 1, at.dt)?;
        let integer = matches!(
            to.dt.basic,
            Some((
                Basic::Char
                    | Basic::I8
                    | Basic::U8
                    | Basic::Byte
                    | Basic::WChar
                    | Basic::I16
                    | Basic::U16
                    | Basic::I32
                    | Basic::U32
                    | Basic::I64
                    | Basic::U64
                    | Basic::Bool,
                1
            ))
        );
        if !to.dt.predefined || !integer {
            return fail(
                MPI_ERR_TYPE,
                format!(
                    "MPI_Compare_and_swap needs a predefined integer, logical or byte type, not {}",
                    to.dt.name
                ),
            );
        }
        let size = to.dt.size;
        if [origin, compare, result as *const u8]
            .iter()
            .any(|p| p.is_null())
        {
            return fail(
                crate::error::MPI_ERR_BUFFER,
                "MPI_Compare_and_swap: a buffer argument is NULL",
            );
        }
        self.ctl().with_acc_lock(t, || {
            // SAFETY: the element is in the target's window (checked); the caller's buffers
            // hold one element each; the accumulate lock is held.
            unsafe {
                let old = std::slice::from_raw_parts(to.addr, size).to_vec();
                let equal = std::slice::from_raw_parts(compare, size) == &old[..];
                if equal {
                    std::ptr::copy(origin, to.addr, size);
                }
                std::ptr::copy_nonoverlapping(old.as_ptr(), result, size);
            }
        });
        Ok(())
    }
}

/// `MPI_Accumulate`: atomic per target with respect to the other accumulates (see the module
/// documentation); predefined operations only (`MPI_ERR_OP` for a user one, as MPI says).
#[no_mangle]
pub unsafe extern "C" fn MPI_Accumulate(
    origin_addr: *const c_void,
    origin_count: c_int,
    origin_datatype: Handle,
    target_rank: c_int,
    target_disp: isize,
    target_count: c_int,
    target_datatype: Handle,
    op: Handle,
    win: Handle,
) -> c_int {
    call_on("MPI_Accumulate", On::Win(win), || {
        let w = get(win)?;
        let origin = Buf::origin(origin_addr, origin_count, origin_datatype, "origin_addr")?;
        // SAFETY: the caller's origin buffer is readable, as MPI requires.
        unsafe {
            w.accumulate(
                &origin,
                None,
                At {
                    rank: target_rank,
                    disp: target_disp,
                    count: target_count,
                    dt: target_datatype,
                },
                op,
            )
        }
    })
}

/// `MPI_Get_accumulate`: the target's old data goes to `result_addr`, then `op` applies.
#[no_mangle]
pub unsafe extern "C" fn MPI_Get_accumulate(
    origin_addr: *const c_void,
    origin_count: c_int,
    origin_datatype: Handle,
    result_addr: *mut c_void,
    result_count: c_int,
    result_datatype: Handle,
    target_rank: c_int,
    target_disp: isize,
    target_count: c_int,
    target_datatype: Handle,
    op: Handle,
    win: Handle,
) -> c_int {
    call_on("MPI_Get_accumulate", On::Win(win), || {
        let w = get(win)?;
        let origin = if op == MPI_NO_OP {
            Buf::origin(std::ptr::null(), 0, target_datatype, "origin_addr")?
        } else {
            Buf::origin(origin_addr, origin_count, origin_datatype, "origin_addr")?
        };
        let result = Buf::origin(result_addr, result_count, result_datatype, "result_addr")?;
        // SAFETY: the caller's buffers are readable and writable, as MPI requires.
        unsafe {
            w.accumulate(
                &origin,
                Some(&result),
                At {
                    rank: target_rank,
                    disp: target_disp,
                    count: target_count,
                    dt: target_datatype,
                },
                op,
            )
        }
    })
}

/// `MPI_Fetch_and_op`: `MPI_Get_accumulate` of one element of a predefined type.
#[no_mangle]
pub unsafe extern "C" fn MPI_Fetch_and_op(
    origin_addr: *const c_void,
    result_addr: *mut c_void,
    datatype: Handle,
    target_rank: c_int,
    target_disp: isize,
    op: Handle,
    win: Handle,
) -> c_int {
    call_on("MPI_Fetch_and_op", On::Win(win), || {
        let w = get(win)?;
        let origin = if op == MPI_NO_OP {
            Buf::origin(std::ptr::null(), 0, datatype, "origin_addr")?
        } else {
            Buf::origin(origin_addr, 1, datatype, "origin_addr")?
        };
        let result = Buf::origin(result_addr, 1, datatype, "result_addr")?;
        // SAFETY: the caller's buffers hold one element each, as MPI requires.
        unsafe {
            w.accumulate(
                &origin,
                Some(&result),
                At {
                    rank: target_rank,
                    disp: target_disp,
                    count: 1,
                    dt: datatype,
                },
                op,
            )
        }
    })
}

/// `MPI_Compare_and_swap`: on one element of a predefined integer, logical or byte type.
#[no_mangle]
pub unsafe extern "C" fn MPI_Compare_and_swap(
    origin_addr: *const c_void,
    compare_addr: *const c_void,
    result_addr: *mut c_void,
    datatype: Handle,
    target_rank: c_int,
    target_disp: isize,
    win: Handle,
) -> c_int {
    call_on("MPI_Compare_and_swap", On::Win(win), || {
        let w = get(win)?;
        // SAFETY: the caller's buffers hold one element each, as MPI requires.
        unsafe {
            w.compare_and_swap(
                origin_addr.cast(),
                compare_addr.cast(),
                result_addr.cast(),
                At {
                    rank: target_rank,
                    disp: target_disp,
                    count: 1,
                    dt: datatype,
                },
            )
        }
    })
}
