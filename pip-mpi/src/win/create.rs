//! Making and freeing windows, dynamic regions, and the window's attributes (see
//! [Windows](super#windows)).

use super::control::Control;
use super::{get, insert, remove, Attrs, Epochs, Target, Win};
use crate::error::{call_on, fail, On, Result};
use crate::error::{MPI_ERR_BASE, MPI_ERR_DISP, MPI_ERR_KEYVAL, MPI_ERR_NO_MEM};
use crate::error::{MPI_ERR_RMA_ATTACH, MPI_ERR_RMA_FLAVOR, MPI_ERR_RMA_SYNC, MPI_ERR_SIZE};
use crate::handle::*;
use pip_comm::prelude::*;
use pip_comm::SimpleCommunicator;
use std::cell::RefCell;
use std::ffi::{c_int, c_void};

/// The alignment of `MPI_Win_allocate`'s memory: a cache line, enough for every C type.
const ALIGN: usize = 64;

impl Win {
    /// Makes a window over `comm` (collective): this rank exposes `size` bytes at `base` in
    /// units of `disp_unit`.
    pub fn new(
        comm: &SimpleCommunicator,
        base: *mut u8,
        size: usize,
        disp_unit: usize,
        flavor: c_int,
    ) -> Result<Win> {
        let pc = comm.duplicate()?;
        let n = pc.size() as usize;
        let mine = [base as usize, size, disp_unit];
        let mut all = vec![0usize; 3 * n];
        pc.all_gather_into(&mine[..], &mut all[..])?;
        let targets = all
            .chunks(3)
            .map(|c| Target {
                base: c[0],
                size: c[1],
                disp_unit: c[2],
            })
            .collect();
        let mut ctl = [0usize];
        if pc.rank() == 0 {
            ctl[0] = Box::into_raw(Box::new(Control::new(n))) as usize;
        }
        pc.process_at_rank(0).broadcast_into(&mut ctl[..])?;
        let rank = pc.rank();
        Ok(Win {
            members: (0..n as i32).collect(),
            pc,
            rank,
            targets,
            ctl: ctl[0] as *const Control,
            allocated: None,
            attrs: Box::new(Attrs {
                base: base.cast(),
                size: size as isize,
                disp_unit: disp_unit as c_int,
                flavor,
                model: MPI_WIN_UNIFIED,
            }),
            epochs: RefCell::new(Epochs {
                locks: vec![None; n],
                ..Epochs::default()
            }),
        })
    }

    /// Frees the window (collective): fails with `MPI_ERR_RMA_SYNC` while this rank has a
    /// lock or a start or post epoch open; waits for every rank, then rank 0 frees the control
    /// block and each rank its own memory (a dynamic window's region lists first, behind a
    /// second barrier).
    pub fn free(&self) -> Result<()> {
        {
            let e = self.epochs.borrow();
            if e.locks.iter().any(|l| l.is_some())
                || e.lock_all.is_some()
                || e.started.is_some()
                || e.posted.is_some()
            {
                return fail(
                    MPI_ERR_RMA_SYNC,
                    "MPI_Win_free while a lock, lock_all, start or post epoch of this rank is open: end it first",
                );
            }
        }
        self.pc.barrier()?;
        if self.is_dynamic() {
            // Our list's memory comes from our allocator: free it here, not in rank 0's drop,
            // after the barrier (an origin may search it until then), before rank 0 frees.
            drop(self.ctl().with_regions(self.rank as usize, std::mem::take));
            self.pc.barrier()?;
        }
        if self.rank == 0 {
            // SAFETY: rank 0 made the block with Box::into_raw; after the barrier no rank uses it.
            drop(unsafe { Box::from_raw(self.ctl as *mut Control) });
        }
        if let Some((p, layout)) = self.allocated {
            // SAFETY: allocated by MPI_Win_allocate with this layout; the window is gone.
            unsafe { std::alloc::dealloc(p, layout) };
        }
        Ok(())
    }
}

/// Checks the common arguments of the window constructors.
fn sizes(size: isize, disp_unit: c_int) -> Result<(usize, usize)> {
    let size = usize::try_from(size)
        .or_else(|_| fail(MPI_ERR_SIZE, format!("size is negative ({size})")))?;
    let unit = match usize::try_from(disp_unit) {
        Ok(u) if u > 0 => u,
        _ => {
            return fail(
                MPI_ERR_DISP,
                format!("disp_unit must be positive, not {disp_unit}"),
            )
        }
    };
    Ok((size, unit))
}

/// Makes a window over communicator `comm` and stores its handle at `win`.
fn make(
    comm: Handle,
    win: *mut Handle,
    base: *mut u8,
    size: usize,
    unit: usize,
    flavor: c_int,
) -> Result<()> {
    let out = crate::comm::out(win)?;
    let c = crate::comm::get(comm)?;
    let mut w = Win::new(&c.pc, base, size, unit, flavor)?;
    w.members = c.world_ranks.clone();
    // SAFETY: checked non-null; the caller passes a valid MPI_Win pointer.
    unsafe { *out = insert(w) };
    Ok(())
}

/// `MPI_Win_create`: exposes `size` bytes at `base`, displacements in units of `disp_unit`.
/// `info` is ignored.
#[no_mangle]
pub unsafe extern "C" fn MPI_Win_create(
    base: *mut c_void,
    size: isize,
    disp_unit: c_int,
    _info: Handle,
    comm: Handle,
    win: *mut Handle,
) -> c_int {
    call_on("MPI_Win_create", On::Comm(comm), || {
        let (size, unit) = sizes(size, disp_unit)?;
        if base.is_null() && size > 0 {
            return fail(
                MPI_ERR_BASE,
                format!("base is NULL with a size of {size} bytes"),
            );
        }
        make(comm, win, base.cast(), size, unit, MPI_WIN_FLAVOR_CREATE)
    })
}

/// `MPI_Win_allocate`: allocates `size` bytes (64-byte aligned, zeroed), writes their address
/// to `*(void **)baseptr` and exposes them. `info` is ignored.
#[no_mangle]
pub unsafe extern "C" fn MPI_Win_allocate(
    size: isize,
    disp_unit: c_int,
    _info: Handle,
    comm: Handle,
    baseptr: *mut c_void,
    win: *mut Handle,
) -> c_int {
    call_on("MPI_Win_allocate", On::Comm(comm), || {
        let (size, unit) = sizes(size, disp_unit)?;
        let baseptr = crate::comm::out(baseptr.cast::<*mut c_void>())?;
        let layout = std::alloc::Layout::from_size_align(size.max(1), ALIGN)
            .or_else(|_| fail(MPI_ERR_SIZE, format!("{size} bytes cannot be allocated")))?;
        // SAFETY: the layout's size is not zero.
        let p = unsafe { std::alloc::alloc_zeroed(layout) };
        if p.is_null() {
            return fail(
                MPI_ERR_NO_MEM,
                format!("allocating {size} bytes for a window failed"),
            );
        }
        let out = crate::comm::out(win)?;
        let made = crate::comm::get(comm).and_then(|c| {
            let mut w = Win::new(&c.pc, p, size, unit, MPI_WIN_FLAVOR_ALLOCATE)?;
            w.members = c.world_ranks.clone();
            Ok(w)
        });
        let mut w = match made {
            Ok(w) => w,
            Err(e) => {
                // SAFETY: just allocated with this layout, and not handed out.
                unsafe { std::alloc::dealloc(p, layout) };
                return Err(e);
            }
        };
        w.allocated = Some((p, layout));
        // SAFETY: both checked non-null; the caller passes valid pointers.
        unsafe {
            *baseptr = p.cast();
            *out = insert(w);
        }
        Ok(())
    })
}

/// `MPI_Win_create_dynamic`: a window without memory; `MPI_Win_attach` adds regions, and a
/// target displacement is an absolute address (`MPI_Get_address`). `info` is ignored.
#[no_mangle]
pub unsafe extern "C" fn MPI_Win_create_dynamic(
    _info: Handle,
    comm: Handle,
    win: *mut Handle,
) -> c_int {
    call_on("MPI_Win_create_dynamic", On::Comm(comm), || {
        make(
            comm,
            win,
            std::ptr::null_mut(),
            0,
            1,
            MPI_WIN_FLAVOR_DYNAMIC,
        )
    })
}

/// The dynamic window of handle `win`.
fn dynamic(win: Handle) -> Result<std::rc::Rc<Win>> {
    let w = get(win)?;
    if !w.is_dynamic() {
        return fail(
            MPI_ERR_RMA_FLAVOR,
            format!("window {win} is not dynamic (made by MPI_Win_create_dynamic)"),
        );
    }
    Ok(w)
}

/// `MPI_Win_attach`: adds `size` bytes at `base` to this rank's part of a dynamic window
/// (local). A region that overlaps one attached is refused with `MPI_ERR_RMA_ATTACH`.
#[no_mangle]
pub unsafe extern "C" fn MPI_Win_attach(win: Handle, base: *mut c_void, size: isize) -> c_int {
    call_on("MPI_Win_attach", On::Win(win), || {
        let w = dynamic(win)?;
        let size = usize::try_from(size)
            .or_else(|_| fail(MPI_ERR_SIZE, format!("size is negative ({size})")))?;
        if base.is_null() && size > 0 {
            return fail(MPI_ERR_BASE, "base is NULL");
        }
        let start = base as usize;
        w.ctl().with_regions(w.rank as usize, |r| {
            if let Some(&(a, l)) = r.iter().find(|&&(a, l)| start < a + l && a < start + size) {
                return fail(
                    MPI_ERR_RMA_ATTACH,
                    format!("[{start:#x}, +{size}) overlaps the attached region [{a:#x}, +{l})"),
                );
            }
            r.push((start, size));
            Ok(())
        })
    })
}

/// `MPI_Win_detach`: removes the region attached at `base` (local).
#[no_mangle]
pub unsafe extern "C" fn MPI_Win_detach(win: Handle, base: *const c_void) -> c_int {
    call_on("MPI_Win_detach", On::Win(win), || {
        let w = dynamic(win)?;
        let start = base as usize;
        w.ctl().with_regions(w.rank as usize, |r| {
            match r.iter().position(|&(a, _)| a == start) {
                Some(i) => {
                    r.swap_remove(i);
                    Ok(())
                }
                None => fail(
                    MPI_ERR_RMA_ATTACH,
                    format!("no region is attached at {start:#x}"),
                ),
            }
        })
    })
}

/// `MPI_Win_free`: collective; fails while this rank has a lock, start or post epoch open.
#[no_mangle]
pub unsafe extern "C" fn MPI_Win_free(win: *mut Handle) -> c_int {
    let h = if win.is_null() {
        MPI_WIN_NULL
    } else {
        // SAFETY: non-null; the caller passes a valid MPI_Win pointer.
        unsafe { *win }
    };
    call_on("MPI_Win_free", On::Win(h), || {
        let out = crate::comm::out(win)?;
        let w = get(h)?;
        w.free()?;
        remove(h);
        // SAFETY: checked non-null.
        unsafe { *out = MPI_WIN_NULL };
        Ok(())
    })
}

/// `MPI_Win_get_attr`: `MPI_WIN_BASE` (the base address itself), and pointers to the
/// window's `MPI_WIN_SIZE` (`MPI_Aint`), `MPI_WIN_DISP_UNIT`, `MPI_WIN_CREATE_FLAVOR` and
/// `MPI_WIN_MODEL` (always `MPI_WIN_UNIFIED`). Other keyvals: `MPI_ERR_KEYVAL` (windows have no
/// user attributes here).
#[no_mangle]
pub unsafe extern "C" fn MPI_Win_get_attr(
    win: Handle,
    keyval: c_int,
    value: *mut c_void,
    flag: *mut c_int,
) -> c_int {
    call_on("MPI_Win_get_attr", On::Win(win), || {
        let w = get(win)?;
        let value = crate::comm::out(value.cast::<*const c_void>())?;
        let flag = crate::comm::out(flag)?;
        let a = &*w.attrs;
        let v: *const c_void = match keyval {
            MPI_WIN_BASE => a.base,
            MPI_WIN_SIZE => (&a.size as *const isize).cast(),
            MPI_WIN_DISP_UNIT => (&a.disp_unit as *const c_int).cast(),
            MPI_WIN_CREATE_FLAVOR => (&a.flavor as *const c_int).cast(),
            MPI_WIN_MODEL => (&a.model as *const c_int).cast(),
            k => {
                return fail(
                    MPI_ERR_KEYVAL,
                    format!("{k} is not a window attribute (MPI_WIN_BASE .. MPI_WIN_MODEL)"),
                )
            }
        };
        // SAFETY: both checked non-null; the attribute storage lives as long as the window.
        unsafe {
            *value = v;
            *flag = 1;
        }
        Ok(())
    })
}

/// `MPI_Win_get_group`: a new group of the window's ranks, in their order.
#[no_mangle]
pub unsafe extern "C" fn MPI_Win_get_group(win: Handle, group: *mut Handle) -> c_int {
    call_on("MPI_Win_get_group", On::Win(win), || {
        let w = get(win)?;
        let out = crate::comm::out(group)?;
        // SAFETY: checked non-null; the caller passes a valid MPI_Group pointer.
        unsafe { *out = crate::group::insert(w.members.clone()) };
        Ok(())
    })
}
