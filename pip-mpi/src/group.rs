//! Groups: ordered sets of ranks, named by the world ranks of their members.
//!
//! A group is a list of distinct world ranks; a member's rank in the group is its position in
//! the list. Groups are local objects: making one never communicates. They come from a
//! communicator (`MPI_Comm_group`, the communicator's members in its order) or from other
//! groups (inclusion, exclusion, set operations), and they say which ranks form a new
//! communicator (`MPI_Comm_create`, `MPI_Comm_create_group`) or which ranks a window's
//! access and exposure epochs concern.
//!
//! `MPI_GROUP_EMPTY` (handle 1) is predefined; every operation whose result has no member
//! returns it, and freeing it is allowed (it stays valid). Other groups are handles from 2 up
//! in the rank's table.

use crate::comm::out;
use crate::error::{call, fail, Result, MPI_ERR_ARG, MPI_ERR_GROUP, MPI_ERR_RANK};
use crate::handle::{
    Handle, MPI_GROUP_EMPTY, MPI_GROUP_NULL, MPI_IDENT, MPI_PROC_NULL, MPI_SIMILAR, MPI_UNDEFINED,
    MPI_UNEQUAL,
};
use crate::state::{count, Table};
use std::cell::RefCell;
use std::ffi::c_int;
use std::rc::Rc;

thread_local! {
    static GROUPS: RefCell<Table<Rc<[i32]>>> = const { RefCell::new(Table::new(2)) };
}

/// The members (world ranks, in group order) of group `h`.
pub fn members(h: Handle) -> Result<Rc<[i32]>> {
    crate::state::require_running()?;
    if h == MPI_GROUP_EMPTY {
        return Ok(Rc::from(Vec::new()));
    }
    match GROUPS.with(|t| t.borrow().get(h).cloned()) {
        Some(m) => Ok(m),
        None if h == MPI_GROUP_NULL => fail(MPI_ERR_GROUP, "the group is MPI_GROUP_NULL"),
        None => fail(MPI_ERR_GROUP, format!("{h} is not a group of this rank")),
    }
}

/// Stores a group of `members` (distinct world ranks) and returns its handle:
/// `MPI_GROUP_EMPTY` when there is no member.
pub fn insert(members: Rc<[i32]>) -> Handle {
    if members.is_empty() {
        return MPI_GROUP_EMPTY;
    }
    GROUPS.with(|t| t.borrow_mut().insert(members))
}

/// A new group of the members of `comm`, in its order (`MPI_Comm_group`, and the group of a
/// window's communicator).
pub fn of_comm(comm: &crate::comm::Comm) -> Handle {
    insert(comm.world_ranks.clone())
}

/// The rank in `comm` of each member of group `h`, in the group's order (`MPI_ERR_GROUP` for a
/// member that is not in `comm`).
pub fn ranks_in(h: Handle, comm: &crate::comm::Comm) -> Result<Vec<c_int>> {
    members(h)?
        .iter()
        .map(|&w| match position(&comm.world_ranks, w) {
            Some(r) => Ok(r as c_int),
            None => fail(
                MPI_ERR_GROUP,
                format!("the group has world rank {w}, which is not in the communicator"),
            ),
        })
        .collect()
}

/// Drops every group; called by `MPI_Finalize`.
pub fn finalize() {
    let all = GROUPS.with(|t| std::mem::replace(&mut *t.borrow_mut(), Table::new(2)));
    drop(all);
}

/// The rank of world rank `w` in `members`, if it is one.
pub fn position(members: &[i32], w: i32) -> Option<usize> {
    members.iter().position(|&m| m == w)
}

/// How two member lists compare: `MPI_IDENT` (same members, same order), `MPI_SIMILAR` (same
/// members), else `MPI_UNEQUAL`. (Communicators call the first case `MPI_CONGRUENT`.)
pub fn compare(a: &[i32], b: &[i32]) -> c_int {
    if a == b {
        return MPI_IDENT;
    }
    let mut sa = a.to_vec();
    let mut sb = b.to_vec();
    sa.sort_unstable();
    sb.sort_unstable();
    if sa == sb {
        MPI_SIMILAR
    } else {
        MPI_UNEQUAL
    }
}

/// Reads `n` ranks of a group of `size` members from `ranks`: each must be a rank of the group
/// and appear once (`MPI_ERR_RANK` otherwise).
///
/// # Safety
///
/// `ranks` is valid for reads of `n` ints when `n > 0`.
unsafe fn distinct_ranks(n: c_int, ranks: *const c_int, size: usize) -> Result<Vec<usize>> {
    let n = count(n, MPI_ERR_ARG, "n")?;
    if n > size {
        return fail(
            MPI_ERR_ARG,
            format!("n = {n} is larger than the group's size {size}"),
        );
    }
    if n > 0 && ranks.is_null() {
        return fail(MPI_ERR_ARG, "ranks is a null pointer");
    }
    let given: &[c_int] = if n == 0 {
        &[]
    } else {
        // SAFETY: the caller guarantees `n` readable ints at `ranks` (checked non-null).
        unsafe { std::slice::from_raw_parts(ranks, n) }
    };
    let mut seen = vec![false; size];
    let mut out = Vec::with_capacity(n);
    for (i, &r) in given.iter().enumerate() {
        let Some(r) = usize::try_from(r).ok().filter(|&r| r < size) else {
            return fail(
                MPI_ERR_RANK,
                format!("ranks[{i}] = {r} is not a rank of the group (size {size})"),
            );
        };
        if std::mem::replace(&mut seen[r], true) {
            return fail(MPI_ERR_RANK, format!("ranks[{i}] = {r} appears twice"));
        }
        out.push(r);
    }
    Ok(out)
}

/// Writes the handle of a new group of `members` to `newgroup`.
fn give(members: Vec<i32>, newgroup: *mut Handle) -> Result<()> {
    let p = out(newgroup)?;
    // SAFETY: checked non-null; the caller passes a valid handle pointer, as MPI requires.
    unsafe { *p = insert(Rc::from(members)) };
    Ok(())
}

/// `MPI_Group_size`: the number of members.
#[no_mangle]
pub unsafe extern "C" fn MPI_Group_size(group: Handle, size: *mut c_int) -> c_int {
    call("MPI_Group_size", || {
        let m = members(group)?;
        // SAFETY: the caller passes a valid int pointer (checked non-null).
        unsafe { *out(size)? = m.len() as c_int };
        Ok(())
    })
}

/// `MPI_Group_rank`: the caller's rank in the group, `MPI_UNDEFINED` if it is no member.
#[no_mangle]
pub unsafe extern "C" fn MPI_Group_rank(group: Handle, rank: *mut c_int) -> c_int {
    call("MPI_Group_rank", || {
        let m = members(group)?;
        let me = crate::state::world_rank().unwrap_or(-1);
        let r = position(&m, me).map_or(MPI_UNDEFINED, |p| p as c_int);
        // SAFETY: the caller passes a valid int pointer (checked non-null).
        unsafe { *out(rank)? = r };
        Ok(())
    })
}

/// `MPI_Group_incl`: the members of ranks `ranks[0..n]`, in that order.
#[no_mangle]
pub unsafe extern "C" fn MPI_Group_incl(
    group: Handle,
    n: c_int,
    ranks: *const c_int,
    newgroup: *mut Handle,
) -> c_int {
    call("MPI_Group_incl", || {
        let m = members(group)?;
        // SAFETY: MPI requires `n` readable ints at `ranks`.
        let picked = unsafe { distinct_ranks(n, ranks, m.len()) }?;
        give(picked.into_iter().map(|r| m[r]).collect(), newgroup)
    })
}

/// `MPI_Group_excl`: the members except those of ranks `ranks[0..n]`, in the group's order.
#[no_mangle]
pub unsafe extern "C" fn MPI_Group_excl(
    group: Handle,
    n: c_int,
    ranks: *const c_int,
    newgroup: *mut Handle,
) -> c_int {
    call("MPI_Group_excl", || {
        let m = members(group)?;
        // SAFETY: MPI requires `n` readable ints at `ranks`.
        let dropped = unsafe { distinct_ranks(n, ranks, m.len()) }?;
        let kept = (0..m.len())
            .filter(|r| !dropped.contains(r))
            .map(|r| m[r])
            .collect();
        give(kept, newgroup)
    })
}

/// `MPI_Group_translate_ranks`: the rank in `group2` of each of `ranks1[0..n]` of `group1`
/// (`MPI_UNDEFINED` for a process not in `group2`; `MPI_PROC_NULL` stays `MPI_PROC_NULL`).
#[no_mangle]
pub unsafe extern "C" fn MPI_Group_translate_ranks(
    group1: Handle,
    n: c_int,
    ranks1: *const c_int,
    group2: Handle,
    ranks2: *mut c_int,
) -> c_int {
    call("MPI_Group_translate_ranks", || {
        let (a, b) = (members(group1)?, members(group2)?);
        let n = count(n, MPI_ERR_ARG, "n")?;
        if n == 0 {
            return Ok(());
        }
        if ranks1.is_null() || ranks2.is_null() {
            return fail(MPI_ERR_ARG, "ranks1 or ranks2 is a null pointer");
        }
        for i in 0..n {
            // SAFETY: MPI requires `n` readable ints at `ranks1` (checked non-null).
            let r = unsafe { *ranks1.add(i) };
            let t = if r == MPI_PROC_NULL {
                MPI_PROC_NULL
            } else {
                let Some(&w) = usize::try_from(r).ok().and_then(|r| a.get(r)) else {
                    return fail(
                        MPI_ERR_RANK,
                        format!(
                            "ranks1[{i}] = {r} is not a rank of group1 (size {})",
                            a.len()
                        ),
                    );
                };
                position(&b, w).map_or(MPI_UNDEFINED, |p| p as c_int)
            };
            // SAFETY: MPI requires `n` writable ints at `ranks2` (checked non-null).
            unsafe { *ranks2.add(i) = t };
        }
        Ok(())
    })
}

/// `MPI_Group_compare`: `MPI_IDENT` (same members in the same order), `MPI_SIMILAR` (same
/// members) or `MPI_UNEQUAL`.
#[no_mangle]
pub unsafe extern "C" fn MPI_Group_compare(
    group1: Handle,
    group2: Handle,
    result: *mut c_int,
) -> c_int {
    call("MPI_Group_compare", || {
        let (a, b) = (members(group1)?, members(group2)?);
        // SAFETY: the caller passes a valid int pointer (checked non-null).
        unsafe { *out(result)? = compare(&a, &b) };
        Ok(())
    })
}

/// The body of the three set operations: `keep(member of group1, in group2)` says which of
/// group1's members stay; with `append`, group2's members not in group1 follow (the union).
fn set_operation(
    group1: Handle,
    group2: Handle,
    newgroup: *mut Handle,
    keep: fn(bool) -> bool,
    append: bool,
) -> Result<()> {
    let (a, b) = (members(group1)?, members(group2)?);
    let mut m: Vec<i32> = a
        .iter()
        .copied()
        .filter(|&w| keep(b.contains(&w)))
        .collect();
    if append {
        m.extend(b.iter().copied().filter(|w| !a.contains(w)));
    }
    give(m, newgroup)
}

/// `MPI_Group_union`: group1's members, then group2's that are not in group1.
#[no_mangle]
pub unsafe extern "C" fn MPI_Group_union(
    group1: Handle,
    group2: Handle,
    newgroup: *mut Handle,
) -> c_int {
    call("MPI_Group_union", || {
        set_operation(group1, group2, newgroup, |_| true, true)
    })
}

/// `MPI_Group_intersection`: group1's members that are in group2, in group1's order.
#[no_mangle]
pub unsafe extern "C" fn MPI_Group_intersection(
    group1: Handle,
    group2: Handle,
    newgroup: *mut Handle,
) -> c_int {
    call("MPI_Group_intersection", || {
        set_operation(group1, group2, newgroup, |in2| in2, false)
    })
}

/// `MPI_Group_difference`: group1's members that are not in group2, in group1's order.
#[no_mangle]
pub unsafe extern "C" fn MPI_Group_difference(
    group1: Handle,
    group2: Handle,
    newgroup: *mut Handle,
) -> c_int {
    call("MPI_Group_difference", || {
        set_operation(group1, group2, newgroup, |in2| !in2, false)
    })
}

/// `MPI_Group_free`: frees the group and sets the handle to `MPI_GROUP_NULL` (freeing
/// `MPI_GROUP_EMPTY` only clears the handle).
#[no_mangle]
pub unsafe extern "C" fn MPI_Group_free(group: *mut Handle) -> c_int {
    call("MPI_Group_free", || {
        let p = out(group)?;
        // SAFETY: checked non-null; the caller passes a valid handle pointer.
        let h = unsafe { *p };
        members(h)?;
        if h != MPI_GROUP_EMPTY {
            GROUPS.with(|t| t.borrow_mut().remove(h));
        }
        // SAFETY: as above.
        unsafe { *p = MPI_GROUP_NULL };
        Ok(())
    })
}

/// `MPI_Comm_group`: the communicator's members, in its order.
#[no_mangle]
pub unsafe extern "C" fn MPI_Comm_group(comm: Handle, group: *mut Handle) -> c_int {
    crate::error::call_on("MPI_Comm_group", crate::error::On::Comm(comm), || {
        let c = crate::comm::get(comm)?;
        let p = out(group)?;
        // SAFETY: checked non-null; the caller passes a valid handle pointer, as MPI requires.
        unsafe { *p = of_comm(&c) };
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compare_tells_order_from_membership() {
        assert_eq!(compare(&[0, 1, 2], &[0, 1, 2]), MPI_IDENT);
        assert_eq!(compare(&[2, 0, 1], &[0, 1, 2]), MPI_SIMILAR);
        assert_eq!(compare(&[0, 1], &[0, 1, 2]), MPI_UNEQUAL);
        assert_eq!(compare(&[], &[]), MPI_IDENT);
    }

    #[test]
    fn ranks_must_be_in_range_and_distinct() {
        let ok = [2, 0];
        // SAFETY: the arrays outlive the calls.
        unsafe {
            assert_eq!(distinct_ranks(2, ok.as_ptr(), 3).unwrap(), vec![2, 0]);
            assert_eq!(
                distinct_ranks(2, [1, 1].as_ptr(), 3).unwrap_err().class,
                MPI_ERR_RANK
            );
            assert_eq!(
                distinct_ranks(1, [3].as_ptr(), 3).unwrap_err().class,
                MPI_ERR_RANK
            );
            assert_eq!(
                distinct_ranks(-1, ok.as_ptr(), 3).unwrap_err().class,
                MPI_ERR_ARG
            );
            assert!(distinct_ranks(0, std::ptr::null(), 3).unwrap().is_empty());
        }
    }
}
