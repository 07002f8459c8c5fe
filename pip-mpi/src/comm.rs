//! Communicators: the rank's table of them, `MPI_COMM_WORLD` and `MPI_COMM_SELF`, the ones a
//! program makes (duplicates, splits, communicators of a group, topologies), and their error
//! handlers.
//!
//! An MPI communicator is two pip-comm communicators over the same ranks: `pc` carries the
//! program's messages, and `internal`, a duplicate made when the communicator is made, carries
//! the library's own (the steps of non-blocking collectives), so that no receive of the program
//! (even with `MPI_ANY_TAG`) can take them. It also knows its members as world ranks (for
//! groups and `MPI_Comm_compare`): a new communicator's ranks exchange their world ranks once,
//! with an all-gather on `internal`, when it is made.
//!
//! # Making communicators
//!
//! Every constructor is collective over the parent and maps onto pip-comm's `duplicate` and
//! `split_by_color_with_key`: `MPI_Comm_dup` duplicates, `MPI_Comm_split` splits,
//! `MPI_Comm_create` splits with color 0 for the group's members (their rank in the group as
//! the key, so the new communicator has the group's order) and no color for the others, and
//! `MPI_Cart_create` splits off the ranks of the grid. A new communicator inherits its
//! parent's error handler; a duplicate also keeps its parent's topology.
//!
//! `MPI_Comm_create_group` is collective over the group's members only: pip-comm's
//! `create_from_members`, in which the group's first member hands a new context to the others.
//!
//! There are no intercommunicators: `MPI_Comm_test_inter` always answers false.

use crate::error::MPI_ERR_TAG;
use crate::error::{call_on, fail, On, Result, MPI_ERR_ARG, MPI_ERR_COMM, MPI_ERR_GROUP};
use crate::handle::{Handle, MPI_COMM_NULL, MPI_COMM_SELF, MPI_COMM_WORLD, MPI_ERRORS_ARE_FATAL};
use crate::handle::{MPI_CONGRUENT, MPI_IDENT, MPI_UNDEFINED};
use crate::state::Table;
use crate::topo::Topology;
use pip_comm::prelude::*;
use pip_comm::{Color, SimpleCommunicator};
use std::cell::{Cell, RefCell};
use std::ffi::c_int;
use std::rc::Rc;

/// One MPI communicator of this rank.
pub struct Comm {
    /// The program's traffic.
    pub pc: SimpleCommunicator,
    /// The library's own traffic on this communicator.
    pub internal: SimpleCommunicator,
    /// The error handler (`MPI_ERRORS_ARE_FATAL` unless set).
    pub errhandler: Cell<Handle>,
    /// The members as world ranks, in this communicator's rank order.
    pub world_ranks: Rc<[i32]>,
    /// The Cartesian or distributed-graph topology, if the communicator has one.
    pub topo: Option<Topology>,
}

impl Comm {
    /// Wraps `pc`, making its internal duplicate and learning its members' world ranks
    /// (collective over `pc`'s ranks).
    pub fn new(pc: SimpleCommunicator, errhandler: Handle) -> Result<Comm> {
        let internal = pc.duplicate()?;
        let me = crate::state::world_rank().unwrap_or(-1);
        let mut all = vec![0i32; pc.size() as usize];
        internal.all_gather_into(&me, &mut all[..])?;
        Ok(Comm {
            pc,
            internal,
            errhandler: Cell::new(errhandler),
            world_ranks: Rc::from(all),
            topo: None,
        })
    }

    /// Wraps `pc` whose members are already known (collective over `pc`'s ranks).
    fn with_members(
        pc: SimpleCommunicator,
        errhandler: Handle,
        world_ranks: Rc<[i32]>,
    ) -> Result<Comm> {
        let internal = pc.duplicate()?;
        Ok(Comm {
            pc,
            internal,
            errhandler: Cell::new(errhandler),
            world_ranks,
            topo: None,
        })
    }

    /// This rank's number in the communicator.
    pub fn rank(&self) -> c_int {
        self.pc.rank()
    }

    /// The number of ranks.
    pub fn size(&self) -> c_int {
        self.pc.size()
    }
}

thread_local! {
    static COMMS: RefCell<Table<Rc<Comm>>> = const { RefCell::new(Table::new(1)) };
    /// The hot path's cache of [`COMMS`] (see [`cached`]): entry `h % HOT_ENTRIES` holds a
    /// handle and a pointer to its communicator inside the table, or a null pointer. Filled
    /// by [`with`] and [`init`]; an entry is cleared when its handle is freed, and every entry
    /// when the table is emptied or refilled, so a non-null entry always points to a
    /// communicator that the table holds.
    static HOT: [Cell<(Handle, *const Comm)>; HOT_ENTRIES] =
        const { [const { Cell::new((MPI_COMM_NULL, std::ptr::null())) }; HOT_ENTRIES] };
}

/// How many communicators the hot path remembers: a few, since a program's blocking calls
/// mostly use one or two.
const HOT_ENTRIES: usize = 4;

/// The entry of [`HOT`] for handle `h`.
fn hot_slot(h: Handle) -> usize {
    h as u32 as usize % HOT_ENTRIES
}

/// Remembers communicator `c` of handle `h` for [`cached`]; `c` is held by the table.
fn remember(h: Handle, c: &Rc<Comm>) {
    HOT.with(|hot| hot[hot_slot(h)].set((h, Rc::as_ptr(c))));
}

/// Forgets every communicator [`cached`] knows.
fn forget_all() {
    HOT.with(|hot| {
        for e in hot {
            e.set((MPI_COMM_NULL, std::ptr::null()));
        }
    });
}

/// The communicator of handle `h` without a look at the table, if the hot path's cache has
/// it (a communicator that [`with`] served lately): the blocking point-to-point calls' fast
/// path (`p2p::hot`). `None` says only "not cached": the caller takes the general path, which
/// finds the communicator or says why there is none.
///
/// The pointer is valid while the table holds the communicator: until this thread frees it
/// (`MPI_Comm_free`) or finalizes MPI. A call that does neither may use it throughout.
pub fn cached(h: Handle) -> Option<std::ptr::NonNull<Comm>> {
    let (k, p) = HOT.with(|hot| hot[hot_slot(h)].get());
    if k == h {
        std::ptr::NonNull::new(p.cast_mut())
    } else {
        None
    }
}

/// Makes `MPI_COMM_WORLD` (handle 1) from `world` and `MPI_COMM_SELF` (handle 2); called by
/// `MPI_Init`.
pub fn init(world: SimpleCommunicator) -> Result<()> {
    let me = world.rank();
    let self_pc = world
        .split_by_color_with_key(Color::with_value(me), 0)?
        .expect("every rank has a color");
    let everyone: Rc<[i32]> = (0..world.size()).collect();
    let world = Comm::with_members(world, MPI_ERRORS_ARE_FATAL, everyone)?;
    let myself = Comm::with_members(self_pc, MPI_ERRORS_ARE_FATAL, Rc::from([me]))?;
    forget_all();
    COMMS.with(|t| {
        let mut t = t.borrow_mut();
        t.clear();
        let (world, myself) = (Rc::new(world), Rc::new(myself));
        remember(MPI_COMM_WORLD, &world);
        remember(MPI_COMM_SELF, &myself);
        let w = t.insert(world);
        let s = t.insert(myself);
        debug_assert_eq!((w, s), (MPI_COMM_WORLD, MPI_COMM_SELF));
    });
    Ok(())
}

/// Drops every communicator; called by `MPI_Finalize`.
pub fn finalize() {
    forget_all();
    let all = COMMS.with(|t| std::mem::replace(&mut *t.borrow_mut(), Table::new(1)));
    drop(all);
}

/// The communicator of handle `h`.
pub fn get(h: Handle) -> Result<Rc<Comm>> {
    // The table is filled by MPI_Init and emptied by MPI_Finalize on this thread, so a hit
    // means MPI runs here; only a miss needs the phase, to say why.
    COMMS.with(|t| t.borrow().get(h).cloned()).map_or_else(
        || {
            crate::state::require_running()?;
            if h == MPI_COMM_NULL {
                fail(MPI_ERR_COMM, "the communicator is MPI_COMM_NULL")
            } else {
                fail(
                    MPI_ERR_COMM,
                    format!("{h} is not a communicator of this rank"),
                )
            }
        },
        Ok,
    )
}

/// Runs `f` on the communicator of handle `h`, borrowed from the rank's table (no reference
/// is taken: the fast path of the blocking point-to-point calls). `f` must not make or free
/// communicators (the table is borrowed meanwhile).
pub fn with<R>(h: Handle, f: impl FnOnce(&Comm) -> Result<R>) -> Result<R> {
    COMMS.with(|t| match t.borrow().get(h) {
        Some(c) => {
            remember(h, c);
            f(c)
        }
        None => get(h).and_then(|c| f(&c)),
    })
}

/// Stores a new communicator and returns its handle.
pub fn insert(c: Comm) -> Handle {
    COMMS.with(|t| t.borrow_mut().insert(Rc::new(c)))
}

/// Frees the communicator of handle `h` (not the predefined ones).
pub fn remove(h: Handle) -> Result<()> {
    if h == MPI_COMM_WORLD || h == MPI_COMM_SELF {
        return fail(
            MPI_ERR_COMM,
            "MPI_COMM_WORLD and MPI_COMM_SELF cannot be freed",
        );
    }
    get(h)?;
    HOT.with(|hot| {
        if hot[hot_slot(h)].get().0 == h {
            hot[hot_slot(h)].set((MPI_COMM_NULL, std::ptr::null()));
        }
    });
    COMMS.with(|t| t.borrow_mut().remove(h));
    Ok(())
}

/// The error handler of communicator `h`, if `h` is a live communicator.
pub fn errhandler_of(h: Handle) -> Option<Handle> {
    if crate::state::require_running().is_err() {
        return None;
    }
    COMMS.with(|t| t.borrow().get(h).map(|c| c.errhandler.get()))
}

/// True if a live communicator has error handler `h`.
pub fn uses_errhandler(h: Handle) -> bool {
    COMMS.with(|t| t.borrow().iter().any(|(_, c)| c.errhandler.get() == h))
}

/// The error handler of window `h`, if `h` is a live window (windows are fatal by default).
pub fn win_errhandler_of(_h: Handle) -> Option<Handle> {
    None
}

/// Calls the user's error handler `handler` for error `code` raised on `on`, with the handle
/// of the communicator concerned (`MPI_COMM_WORLD` when the error concerns no live
/// communicator) and the code.
pub fn call_user_errhandler(handler: Handle, on: On, code: c_int) {
    let comm = match on {
        On::Comm(c) if errhandler_of(c).is_some() => c,
        _ => MPI_COMM_WORLD,
    };
    crate::errhandler::call_user(handler, comm, code);
}

/// Stores `pc` (if this rank got a communicator) as a new communicator derived from `parent`
/// (inheriting its error handler) with topology `topo`; returns its handle, or
/// `MPI_COMM_NULL` for none.
pub fn derive(
    parent: &Comm,
    pc: Option<SimpleCommunicator>,
    topo: Option<Topology>,
) -> Result<Handle> {
    let Some(pc) = pc else {
        return Ok(MPI_COMM_NULL);
    };
    let mut c = Comm::new(pc, parent.errhandler.get())?;
    c.topo = topo;
    Ok(insert(c))
}

/// Writes `h` to the handle pointer `p`.
pub fn give(h: Handle, p: *mut Handle) -> Result<()> {
    let p = out(p)?;
    // SAFETY: checked non-null; the caller passes a valid handle pointer, as MPI requires.
    unsafe { *p = h };
    Ok(())
}

/// `MPI_Comm_rank`.
#[no_mangle]
pub unsafe extern "C" fn MPI_Comm_rank(comm: Handle, rank: *mut c_int) -> c_int {
    crate::error::call_on("MPI_Comm_rank", On::Comm(comm), || {
        let c = get(comm)?;
        // SAFETY: the caller passes a valid int pointer, as MPI requires.
        unsafe { *out(rank)? = c.rank() };
        Ok(())
    })
}

/// `MPI_Comm_size`.
#[no_mangle]
pub unsafe extern "C" fn MPI_Comm_size(comm: Handle, size: *mut c_int) -> c_int {
    crate::error::call_on("MPI_Comm_size", On::Comm(comm), || {
        let c = get(comm)?;
        // SAFETY: the caller passes a valid int pointer, as MPI requires.
        unsafe { *out(size)? = c.size() };
        Ok(())
    })
}

/// Checks that an output argument is not null.
pub fn out<T>(p: *mut T) -> Result<*mut T> {
    if p.is_null() {
        fail(
            crate::error::MPI_ERR_ARG,
            "an output argument is a null pointer",
        )
    } else {
        Ok(p)
    }
}

/// `MPI_Comm_dup`: a communicator with the same ranks, error handler and topology, and a
/// matching space of its own. Collective.
#[no_mangle]
pub unsafe extern "C" fn MPI_Comm_dup(comm: Handle, newcomm: *mut Handle) -> c_int {
    call_on("MPI_Comm_dup", On::Comm(comm), || {
        let c = get(comm)?;
        out(newcomm)?;
        let pc = c.pc.duplicate()?;
        let mut d = Comm::with_members(pc, c.errhandler.get(), c.world_ranks.clone())?;
        d.topo = c.topo.clone();
        give(insert(d), newcomm)
    })
}

/// `MPI_Comm_split`: one communicator per color, ordered by key (then by rank in `comm`);
/// `MPI_UNDEFINED` as the color gives `MPI_COMM_NULL`. Collective.
#[no_mangle]
pub unsafe extern "C" fn MPI_Comm_split(
    comm: Handle,
    color: c_int,
    key: c_int,
    newcomm: *mut Handle,
) -> c_int {
    call_on("MPI_Comm_split", On::Comm(comm), || {
        let c = get(comm)?;
        out(newcomm)?;
        let color = match color {
            MPI_UNDEFINED => Color::undefined(),
            c if c >= 0 => Color::with_value(c),
            c => {
                return fail(
                    MPI_ERR_ARG,
                    format!("color {c} is negative (and not MPI_UNDEFINED)"),
                )
            }
        };
        let pc = c.pc.split_by_color_with_key(color, key)?;
        give(derive(&c, pc, None)?, newcomm)
    })
}

/// `MPI_Comm_free`: frees the communicator and sets the handle to `MPI_COMM_NULL`.
/// Operations still in flight on it keep it alive until they complete.
#[no_mangle]
pub unsafe extern "C" fn MPI_Comm_free(comm: *mut Handle) -> c_int {
    let h = if comm.is_null() {
        MPI_COMM_NULL
    } else {
        // SAFETY: the caller passes a valid handle pointer (checked non-null).
        unsafe { *comm }
    };
    call_on("MPI_Comm_free", On::Comm(h), || {
        let p = out(comm)?;
        remove(h)?;
        // SAFETY: checked non-null; the caller passes a valid handle pointer.
        unsafe { *p = MPI_COMM_NULL };
        Ok(())
    })
}

/// `MPI_Comm_compare`: `MPI_IDENT` for the same communicator, `MPI_CONGRUENT` for the same
/// members in the same order, `MPI_SIMILAR` for the same members, else `MPI_UNEQUAL`.
#[no_mangle]
pub unsafe extern "C" fn MPI_Comm_compare(
    comm1: Handle,
    comm2: Handle,
    result: *mut c_int,
) -> c_int {
    call_on("MPI_Comm_compare", On::Comm(comm1), || {
        let (a, b) = (get(comm1)?, get(comm2)?);
        let r = if comm1 == comm2 {
            MPI_IDENT
        } else {
            match crate::group::compare(&a.world_ranks, &b.world_ranks) {
                MPI_IDENT => MPI_CONGRUENT,
                other => other,
            }
        };
        // SAFETY: the caller passes a valid int pointer (checked non-null).
        unsafe { *out(result)? = r };
        Ok(())
    })
}

/// The color and key with which a rank of `c` takes part in the split that makes the
/// communicator of `group` (its members must be ranks of `c`).
fn group_split(c: &Comm, group: Handle) -> Result<(Color, c_int)> {
    let ranks = crate::group::ranks_in(group, c)?;
    Ok(match ranks.iter().position(|&r| r == c.rank()) {
        Some(p) => (Color::with_value(0), p as c_int),
        None => (Color::undefined(), 0),
    })
}

/// `MPI_Comm_create`: a communicator of the group's members in the group's order
/// (`MPI_COMM_NULL` for the other ranks). Collective over `comm`; every rank passes the same
/// group.
#[no_mangle]
pub unsafe extern "C" fn MPI_Comm_create(
    comm: Handle,
    group: Handle,
    newcomm: *mut Handle,
) -> c_int {
    call_on("MPI_Comm_create", On::Comm(comm), || {
        let c = get(comm)?;
        out(newcomm)?;
        let (color, key) = group_split(&c, group)?;
        let pc = c.pc.split_by_color_with_key(color, key)?;
        give(derive(&c, pc, None)?, newcomm)
    })
}

/// `MPI_Comm_create_group`: a communicator of the group's members in the group's order,
/// collective over the group's members only (the other ranks of `comm` do not call it). `tag`
/// tells apart creations that run at the same time with overlapping groups.
#[no_mangle]
pub unsafe extern "C" fn MPI_Comm_create_group(
    comm: Handle,
    group: Handle,
    tag: c_int,
    newcomm: *mut Handle,
) -> c_int {
    call_on("MPI_Comm_create_group", On::Comm(comm), || {
        let c = get(comm)?;
        out(newcomm)?;
        if !(0..=pip_comm::MAX_TAG).contains(&tag) {
            return fail(
                MPI_ERR_TAG,
                format!("tag {tag} is not in 0..={}", pip_comm::MAX_TAG),
            );
        }
        let members = crate::group::ranks_in(group, &c)?;
        if !members.contains(&c.rank()) {
            return fail(
                MPI_ERR_GROUP,
                "the calling rank is not a member of the group",
            );
        }
        let pc = c.pc.create_from_members(&members, tag)?;
        give(derive(&c, pc, None)?, newcomm)
    })
}

/// `MPI_Comm_test_inter`: always false (there are no intercommunicators).
#[no_mangle]
pub unsafe extern "C" fn MPI_Comm_test_inter(comm: Handle, flag: *mut c_int) -> c_int {
    call_on("MPI_Comm_test_inter", On::Comm(comm), || {
        get(comm)?;
        // SAFETY: the caller passes a valid int pointer (checked non-null).
        unsafe { *out(flag)? = 0 };
        Ok(())
    })
}

#[cfg(test)]
mod tests;
