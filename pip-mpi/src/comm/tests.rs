//! The hot path's cache of communicators ([`cached`]): it answers only for communicators the
//! table holds, and forgets one as it is freed, so a handle reused by a new communicator never
//! reaches the old one.

use super::*;
use crate::handle::MPI_ERRORS_RETURN;

/// A duplicate of the world, stored in the table.
fn new_dup() -> Handle {
    let world = get(MPI_COMM_WORLD).unwrap();
    insert(Comm::new(world.pc.duplicate().unwrap(), MPI_ERRORS_RETURN).unwrap())
}

/// What the table holds for `h`, as the cache's pointer type.
fn held(h: Handle) -> *const Comm {
    Rc::as_ptr(&get(h).unwrap())
}

#[test]
fn the_cache_answers_for_held_communicators_and_forgets_freed_ones() {
    pip_comm::run(2, |world| {
        init(world).unwrap();
        for h in [MPI_COMM_WORLD, MPI_COMM_SELF] {
            assert_eq!(cached(h).map(|p| p.as_ptr().cast_const()), Some(held(h)));
        }
        let d = new_dup();
        assert!(
            cached(d).is_none(),
            "cached before any blocking call used it"
        );
        assert_eq!(with(d, |c| Ok(c.size())).unwrap(), 2);
        assert_eq!(cached(d).map(|p| p.as_ptr().cast_const()), Some(held(d)));
        // A handle that shares the entry does not take its answer.
        assert!(cached(d + HOT_ENTRIES as Handle).is_none());
        remove(d).unwrap();
        assert!(cached(d).is_none(), "a freed communicator is still cached");
        // The new communicator takes the freed handle; the cache knows it only once used.
        let e = new_dup();
        assert_eq!(e, d, "the table reuses a freed handle");
        assert!(cached(e).is_none());
        with(e, |_| Ok(())).unwrap();
        assert_eq!(cached(e).map(|p| p.as_ptr().cast_const()), Some(held(e)));
        finalize();
        for h in [MPI_COMM_WORLD, MPI_COMM_SELF, e] {
            assert!(cached(h).is_none(), "handle {h} cached after finalize");
        }
    })
    .unwrap();
}
