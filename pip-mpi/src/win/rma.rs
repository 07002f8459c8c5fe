//! `MPI_Put` and `MPI_Get`: the origin's and the target's buffers, the target address
//! (`base + disp * disp_unit`, or an absolute address in a dynamic window), its range check
//! against the target's window, and the copy between two typed buffers.

use super::{get, Win};
use crate::datatype::{self, Datatype};
use crate::error::{call_on, fail, On, Result};
use crate::error::{MPI_ERR_BUFFER, MPI_ERR_COUNT, MPI_ERR_DISP, MPI_ERR_RMA_RANGE, MPI_ERR_TYPE};
use crate::handle::Handle;
use std::ffi::{c_int, c_void};
use std::rc::Rc;

/// The target side of an operation as the origin names it: `count` elements of `dt` at
/// displacement `disp` in rank `rank`'s window.
#[derive(Debug, Clone, Copy)]
pub struct At {
    pub rank: c_int,
    pub disp: isize,
    pub count: c_int,
    pub dt: Handle,
}

/// `count` elements of datatype `dt` at `addr`: one side of a transfer.
pub struct Buf {
    pub addr: *mut u8,
    pub count: usize,
    pub dt: Rc<Datatype>,
}

impl Buf {
    /// The origin-side buffer of an MPI call: checks the count, that the type is committed,
    /// and that the address is not NULL when there are bytes to move.
    pub fn origin(addr: *const c_void, count: c_int, dt: Handle, what: &str) -> Result<Buf> {
        // (The message is made only on failure: this runs on every put and get.)
        let Ok(count) = usize::try_from(count) else {
            return fail(
                MPI_ERR_COUNT,
                format!("{what}'s count is negative ({count})"),
            );
        };
        let dt = datatype::get_committed(dt)?;
        let bytes = dt.bytes(count)?;
        if addr.is_null() && bytes > 0 {
            return fail(
                MPI_ERR_BUFFER,
                format!("{what} is NULL with {bytes} bytes to move"),
            );
        }
        Ok(Buf {
            addr: addr as *mut u8,
            count,
            dt,
        })
    }

    /// The bytes of data.
    pub fn bytes(&self) -> usize {
        self.dt.size * self.count
    }

    /// The data, packed in type-map order.
    ///
    /// # Safety
    ///
    /// The buffer's blocks are readable.
    pub unsafe fn read(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(self.bytes());
        if self.bytes() == 0 {
            return v;
        }
        if self.dt.is_contiguous() {
            // SAFETY: the caller guarantees the bytes are readable.
            v.extend_from_slice(unsafe { std::slice::from_raw_parts(self.addr, self.bytes()) });
        } else {
            // SAFETY: as above.
            unsafe { datatype::pack(&self.dt, self.count, self.addr, &mut v) };
        }
        v
    }

    /// Stores packed `data` (at most [`Buf::bytes`]) into the buffer.
    ///
    /// # Safety
    ///
    /// The buffer's blocks are writable.
    pub unsafe fn write(&self, data: &[u8]) {
        if data.is_empty() {
            return;
        }
        if self.dt.is_contiguous() {
            // SAFETY: the caller guarantees the bytes are writable; `copy` allows overlap.
            unsafe { std::ptr::copy(data.as_ptr(), self.addr, data.len()) };
        } else {
            // SAFETY: as above.
            unsafe { datatype::unpack(&self.dt, data, self.addr) };
        }
    }
}

/// Copies the data of `from` into `to` (which holds as many bytes): one `memmove` when both
/// are contiguous (the single copy of a put or get), else through a packed temporary.
///
/// # Safety
///
/// `from`'s blocks are readable and `to`'s writable.
pub unsafe fn copy(from: &Buf, to: &Buf) {
    debug_assert_eq!(from.bytes(), to.bytes());
    if from.bytes() == 0 {
        return;
    }
    if from.dt.is_contiguous() && to.dt.is_contiguous() {
        // SAFETY: the caller guarantees both ranges; `copy` allows them to overlap.
        unsafe { std::ptr::copy(from.addr, to.addr, from.bytes()) };
    } else {
        // SAFETY: as above; the temporary keeps overlapping layouts apart.
        unsafe { to.write(&from.read()) };
    }
}

/// The bytes that `count` elements of `t` touch, relative to the buffer's address: `[lo, hi)`
/// (empty when nothing is touched).
pub fn span(t: &Datatype, count: usize) -> (isize, isize) {
    if count == 0 || t.size == 0 {
        return (0, 0);
    }
    let lo = t.blocks.iter().map(|b| b.0).min().unwrap_or(0);
    let hi = t
        .blocks
        .iter()
        .map(|b| b.0 + b.1 as isize)
        .max()
        .unwrap_or(0);
    let last = (count as isize - 1) * t.extent;
    (lo + last.min(0), hi + last.max(0))
}

/// Fails with `MPI_ERR_TYPE` unless the two sides move the same number of bytes.
pub fn same_size(a: &Buf, b: &Buf, what: &str) -> Result<()> {
    if a.bytes() != b.bytes() {
        return fail(
            MPI_ERR_TYPE,
            format!("{what}: the origin moves {} bytes but the target {}: the type signatures must match", a.bytes(), b.bytes()),
        );
    }
    Ok(())
}

impl Win {
    /// The target-side buffer of `count` elements of `dt` at displacement `disp` on rank
    /// `target`, checked to lie in its window (`MPI_ERR_RMA_RANGE`).
    pub fn target_buf(&self, target: usize, disp: isize, count: c_int, dt: Handle) -> Result<Buf> {
        let count = crate::state::count(count, MPI_ERR_COUNT, "target_count")?;
        let dt = datatype::get_committed(dt)?;
        let addr = self.target_addr(target, disp, span(&dt, count))?;
        Ok(Buf {
            addr: addr as *mut u8,
            count,
            dt,
        })
    }

    /// The address of displacement `disp` on rank `target`, checked so that the bytes
    /// `[addr + lo, addr + hi)` lie in its window (`MPI_ERR_RMA_RANGE`; nothing is checked
    /// when the range is empty).
    fn target_addr(&self, target: usize, disp: isize, (lo, hi): (isize, isize)) -> Result<usize> {
        let t = self.targets[target];
        let off = disp.checked_mul(t.disp_unit as isize).ok_or_else(|| {
            crate::error::Error::new(MPI_ERR_DISP, format!("target_disp {disp} overflows"))
        })?;
        let addr = if self.is_dynamic() {
            disp as usize
        } else {
            t.base.wrapping_add_signed(off)
        };
        if lo < hi {
            let (first, end) = (addr.wrapping_add_signed(lo), addr.wrapping_add_signed(hi));
            let inside = if self.is_dynamic() {
                self.ctl().with_regions(target, |r| {
                    r.iter()
                        .any(|&(a, l)| first >= a && end <= a + l && first <= end)
                })
            } else {
                off.checked_add(lo).is_some_and(|s| s >= 0)
                    && off.checked_add(hi).is_some_and(|e| e as usize <= t.size)
            };
            if !inside {
                return fail(
                    MPI_ERR_RMA_RANGE,
                    self.range_message(target, disp, first, end),
                );
            }
        }
        Ok(addr)
    }

    /// The fast path of `MPI_Put` and `MPI_Get` (`put` true for a put): when both datatypes
    /// are predefined and contiguous and both sides move the same bytes, one `memmove`
    /// between `origin` and the target, with the general path's checks (rank, epoch, range)
    /// but no datatype looked up in the rank's tables. `None` sends the call the general way
    /// (which also reports any mismatch).
    ///
    /// # Safety
    ///
    /// `origin` is readable (a put) or writable (a get) for its bytes.
    pub unsafe fn contiguous_transfer(
        &self,
        put: bool,
        origin: (*mut u8, c_int, Handle),
        at: At,
    ) -> Option<Result<()>> {
        let (addr, count, dt) = origin;
        let o = datatype::contiguous_predefined_size(dt)?;
        let t = datatype::contiguous_predefined_size(at.dt)?;
        let bytes = usize::try_from(count).ok()?.checked_mul(o)?;
        if usize::try_from(at.count).ok()?.checked_mul(t)? != bytes || (addr.is_null() && bytes > 0)
        {
            return None;
        }
        let what = if put { "MPI_Put" } else { "MPI_Get" };
        let moved = (|| {
            let Some(target) = self.target(at.rank)? else {
                return Ok(());
            };
            self.check_access(target, what)?;
            let remote = self.target_addr(target, at.disp, (0, bytes as isize))? as *mut u8;
            if bytes > 0 {
                let (from, to) = if put { (addr, remote) } else { (remote, addr) };
                // SAFETY: the origin's bytes (the caller) and the target's (checked to lie in
                // its window) are valid; `copy` allows them to overlap.
                unsafe { std::ptr::copy(from, to, bytes) };
            }
            Ok(())
        })();
        Some(moved)
    }

    fn range_message(&self, target: usize, disp: isize, first: usize, end: usize) -> String {
        let t = self.targets[target];
        if self.is_dynamic() {
            format!(
                "target {target}: bytes [{first:#x}, {end:#x}) at address {disp:#x} are not inside one region \
                 that rank attached to the dynamic window"
            )
        } else {
            format!(
                "target {target}: displacement {disp} (units of {} bytes) reaches bytes [{}, {}) of a window of {} bytes",
                t.disp_unit,
                first.wrapping_sub(t.base) as isize,
                end.wrapping_sub(t.base) as isize,
                t.size
            )
        }
    }

    /// `MPI_Put`: copies `origin` to `at`.
    ///
    /// # Safety
    ///
    /// `origin` is readable.
    pub unsafe fn put(&self, origin: &Buf, at: At) -> Result<()> {
        let Some(t) = self.target(at.rank)? else {
            return Ok(());
        };
        self.check_access(t, "MPI_Put")?;
        let to = self.target_buf(t, at.disp, at.count, at.dt)?;
        same_size(origin, &to, "MPI_Put")?;
        // SAFETY: the origin is readable (the caller), the target range is in its window.
        unsafe { copy(origin, &to) };
        Ok(())
    }

    /// `MPI_Get`: copies `at` into `origin`.
    ///
    /// # Safety
    ///
    /// `origin` is writable.
    pub unsafe fn get(&self, origin: &Buf, at: At) -> Result<()> {
        let Some(t) = self.target(at.rank)? else {
            return Ok(());
        };
        self.check_access(t, "MPI_Get")?;
        let from = self.target_buf(t, at.disp, at.count, at.dt)?;
        same_size(origin, &from, "MPI_Get")?;
        // SAFETY: the target range is in its window, the origin is writable (the caller).
        unsafe { copy(&from, origin) };
        Ok(())
    }
}

/// `MPI_Put`: completes at once (the data is in the target's memory when it returns).
#[no_mangle]
pub unsafe extern "C" fn MPI_Put(
    origin_addr: *const c_void,
    origin_count: c_int,
    origin_datatype: Handle,
    target_rank: c_int,
    target_disp: isize,
    target_count: c_int,
    target_datatype: Handle,
    win: Handle,
) -> c_int {
    call_on("MPI_Put", On::Win(win), || {
        let w = get(win)?;
        let at = At {
            rank: target_rank,
            disp: target_disp,
            count: target_count,
            dt: target_datatype,
        };
        let origin = (origin_addr.cast_mut().cast(), origin_count, origin_datatype);
        // SAFETY: the caller's origin buffer is readable, as MPI requires.
        if let Some(done) = unsafe { w.contiguous_transfer(true, origin, at) } {
            return done;
        }
        let origin = Buf::origin(origin_addr, origin_count, origin_datatype, "origin_addr")?;
        // SAFETY: the caller's origin buffer is readable, as MPI requires.
        unsafe {
            w.put(
                &origin,
                At {
                    rank: target_rank,
                    disp: target_disp,
                    count: target_count,
                    dt: target_datatype,
                },
            )
        }
    })
}

/// `MPI_Get`: completes at once (the data is in the origin buffer when it returns).
#[no_mangle]
pub unsafe extern "C" fn MPI_Get(
    origin_addr: *mut c_void,
    origin_count: c_int,
    origin_datatype: Handle,
    target_rank: c_int,
    target_disp: isize,
    target_count: c_int,
    target_datatype: Handle,
    win: Handle,
) -> c_int {
    call_on("MPI_Get", On::Win(win), || {
        let w = get(win)?;
        let at = At {
            rank: target_rank,
            disp: target_disp,
            count: target_count,
            dt: target_datatype,
        };
        let origin = (origin_addr.cast(), origin_count, origin_datatype);
        // SAFETY: the caller's origin buffer is writable, as MPI requires.
        if let Some(done) = unsafe { w.contiguous_transfer(false, origin, at) } {
            return done;
        }
        let origin = Buf::origin(origin_addr, origin_count, origin_datatype, "origin_addr")?;
        // SAFETY: the caller's origin buffer is writable, as MPI requires.
        unsafe {
            w.get(
                &origin,
                At {
                    rank: target_rank,
                    disp: target_disp,
                    count: target_count,
                    dt: target_datatype,
                },
            )
        }
    })
}
