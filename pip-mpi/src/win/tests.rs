//! The window protocols with ranks as threads (`pip_comm::run`), through the `Win` methods the
//! C functions call.

#[cfg(not(loom))]
mod ranks {
    use crate::error::{MPI_ERR_LOCKTYPE, MPI_ERR_RMA_RANGE, MPI_ERR_TYPE};
    use crate::handle::{
        MPI_LOCK_EXCLUSIVE, MPI_LOCK_SHARED, MPI_MODE_NOSUCCEED, MPI_SUM, MPI_WIN_FLAVOR_CREATE,
    };
    use crate::win::rma::{span, At, Buf};
    use crate::win::*;
    use pip_comm::prelude::*;

    /// `MPI_INT`'s handle.
    const INT: Handle = 8;
    /// `MPI_LONG`'s handle.
    const LONG: Handle = 10;

    /// A window over `mem` (i32 slots) on every rank of `world`.
    fn window(world: &SimpleCommunicator, mem: &mut [i32]) -> Win {
        Win::new(
            world,
            mem.as_mut_ptr().cast(),
            std::mem::size_of_val(mem),
            4,
            MPI_WIN_FLAVOR_CREATE,
        )
        .unwrap()
    }

    fn ints(v: &[i32]) -> Buf {
        Buf::origin(v.as_ptr().cast(), v.len() as c_int, INT, "test").unwrap()
    }

    /// A buffer that a get or a fetch writes: made from a mutable borrow, so that the
    /// compiler knows the memory changes.
    fn ints_mut(v: &mut [i32]) -> Buf {
        Buf::origin(v.as_mut_ptr().cast(), v.len() as c_int, INT, "test").unwrap()
    }

    fn at(rank: c_int, disp: isize, count: c_int) -> At {
        At {
            rank,
            disp,
            count,
            dt: INT,
        }
    }

    #[test]
    fn put_and_get_under_fence_reach_every_slot() {
        pip_comm::run(4, |world| {
            let n = world.size() as usize;
            let me = world.rank();
            let mut mem = vec![-1i32; n];
            let w = window(&world, &mut mem);
            w.fence(0).unwrap();
            for t in 0..n as c_int {
                // SAFETY: the origin is a live i32.
                unsafe { w.put(&ints(&[me]), at(t, me as isize, 1)).unwrap() };
            }
            w.fence(0).unwrap();
            assert_eq!(mem, (0..n as i32).collect::<Vec<_>>());
            let mut got = [0i32; 2];
            // SAFETY: `got` holds two writable i32.
            unsafe {
                w.get(&ints_mut(&mut got), at((me + 1) % n as c_int, 1, 2))
                    .unwrap()
            };
            assert_eq!(got, [1, 2]);
            w.fence(MPI_MODE_NOSUCCEED).unwrap();
            w.free().unwrap();
        })
        .unwrap();
    }

    #[test]
    fn exclusive_locks_serialise_read_modify_write() {
        const ROUNDS: i32 = 50;
        let out = pip_comm::run(4, |world| {
            let mut mem = [0i32; 1];
            let w = window(&world, &mut mem);
            for _ in 0..ROUNDS {
                w.lock(MPI_LOCK_EXCLUSIVE, 0, 0).unwrap();
                let mut v = [0i32];
                // SAFETY: `v` is one writable, then readable i32.
                unsafe {
                    w.get(&ints_mut(&mut v), at(0, 0, 1)).unwrap();
                    w.put(&ints(&[v[0] + 1]), at(0, 0, 1)).unwrap();
                }
                w.unlock(0).unwrap();
            }
            w.pc.barrier().unwrap();
            let total = mem[0];
            w.free().unwrap();
            total
        })
        .unwrap();
        assert_eq!(out[0], 4 * ROUNDS);
    }

    #[test]
    fn fetch_and_add_under_lock_all_hands_out_every_value_once() {
        const ROUNDS: i64 = 20;
        let out = pip_comm::run(3, |world| {
            let mut mem = [0i64; 1];
            let w = Win::new(&world, mem.as_mut_ptr().cast(), 8, 8, MPI_WIN_FLAVOR_CREATE).unwrap();
            w.lock_all(0).unwrap();
            let mut seen = Vec::new();
            for _ in 0..ROUNDS {
                let one = [1i64];
                let mut old = [0i64];
                let origin = Buf::origin(one.as_ptr().cast(), 1, LONG, "one").unwrap();
                let result = Buf::origin(old.as_mut_ptr().cast(), 1, LONG, "old").unwrap();
                let target = At {
                    rank: 0,
                    disp: 0,
                    count: 1,
                    dt: LONG,
                };
                // SAFETY: one readable and one writable i64.
                unsafe {
                    w.accumulate(&origin, Some(&result), target, MPI_SUM)
                        .unwrap()
                };
                w.flush(Some(0), "flush").unwrap();
                seen.push(old[0]);
            }
            w.unlock_all().unwrap();
            w.pc.barrier().unwrap();
            let total = mem[0];
            w.free().unwrap();
            (seen, total)
        })
        .unwrap();
        let mut all: Vec<i64> = out.iter().flat_map(|o| o.0.clone()).collect();
        all.sort();
        assert_eq!(all, (0..3 * ROUNDS).collect::<Vec<_>>());
        assert_eq!(out[0].1, 3 * ROUNDS);
    }

    #[test]
    fn post_start_complete_wait_around_a_ring() {
        pip_comm::run(3, |world| {
            let n = world.size();
            let me = world.rank();
            let mut mem = [0i32; 1];
            let w = window(&world, &mut mem);
            for round in 1..=5 {
                mem[0] = 0;
                w.post(&[(me + n - 1) % n], 0).unwrap();
                w.start(&[(me + 1) % n], 0).unwrap();
                // SAFETY: one readable i32.
                unsafe {
                    w.put(&ints(&[me * 10 + round]), at((me + 1) % n, 0, 1))
                        .unwrap()
                };
                w.complete().unwrap();
                w.wait(true).unwrap();
                assert_eq!(mem[0], ((me + n - 1) % n) * 10 + round);
                w.pc.barrier().unwrap();
            }
            w.free().unwrap();
        })
        .unwrap();
    }

    #[test]
    fn wrong_synchronisation_and_arguments_are_refused() {
        pip_comm::run(2, |world| {
            let mut mem = [0i32; 4];
            let w = window(&world, &mut mem);
            let class = |r: Result<()>| r.unwrap_err().class;
            assert_eq!(
                // SAFETY: the origin buffer is a live i32.
                class(unsafe { w.put(&ints(&[1]), at(0, 0, 1)) }),
                MPI_ERR_RMA_SYNC
            );
            assert_eq!(class(w.unlock(0)), MPI_ERR_RMA_SYNC);
            assert_eq!(class(w.complete()), MPI_ERR_RMA_SYNC);
            assert_eq!(class(w.wait(false).map(drop)), MPI_ERR_RMA_SYNC);
            assert_eq!(class(w.flush(None, "flush")), MPI_ERR_RMA_SYNC);
            assert_eq!(class(w.lock(7, 0, 0)), MPI_ERR_LOCKTYPE);
            assert_eq!(class(w.lock(MPI_LOCK_SHARED, 2, 0)), MPI_ERR_RANK);
            w.lock(MPI_LOCK_SHARED, MPI_PROC_NULL, 0).unwrap();
            w.lock(MPI_LOCK_SHARED, 1, 0).unwrap();
            assert_eq!(class(w.lock(MPI_LOCK_SHARED, 1, 0)), MPI_ERR_RMA_SYNC);
            // SAFETY: as above.
            unsafe {
                w.put(&ints(&[1]), at(MPI_PROC_NULL, 99, 1)).unwrap();
                assert_eq!(class(w.put(&ints(&[1, 2]), at(1, 3, 2))), MPI_ERR_RMA_RANGE);
                assert_eq!(class(w.put(&ints(&[1]), at(1, -1, 1))), MPI_ERR_RMA_RANGE);
                assert_eq!(class(w.put(&ints(&[1, 2]), at(1, 0, 1))), MPI_ERR_TYPE);
                w.put(&ints(&[1, 2]), at(1, 2, 2)).unwrap();
                let nothing = Buf::origin(std::ptr::null(), 0, INT, "nothing").unwrap();
                w.put(&nothing, at(1, 4, 0)).unwrap();
                w.get(&nothing, at(1, 0, 0)).unwrap();
            }
            assert_eq!(class(w.free()), MPI_ERR_RMA_SYNC);
            w.unlock(1).unwrap();
            w.free().unwrap();
        })
        .unwrap();
    }

    #[test]
    fn the_contiguous_fast_path_checks_what_put_and_get_check() {
        pip_comm::run(2, |world| {
            let mut mem = [0i32; 4];
            let w = window(&world, &mut mem);
            let mut v = [5i32, 6];
            let origin = |v: &mut [i32], n: c_int| (v.as_mut_ptr().cast::<u8>(), n, INT);
            let fast = |put: bool, o: (*mut u8, c_int, Handle), at: At| {
                // SAFETY: `o` is a live i32 array of at least its count.
                unsafe { w.contiguous_transfer(put, o, at) }
            };
            let class = |r: Option<Result<()>>| r.unwrap().unwrap_err().class;
            // Outside an epoch, as the general path says.
            assert_eq!(
                class(fast(true, origin(&mut v, 1), at(1, 0, 1))),
                MPI_ERR_RMA_SYNC
            );
            w.fence(0).unwrap();
            let peer = 1 - world.rank();
            assert_eq!(
                class(fast(true, origin(&mut v, 2), at(peer, 3, 2))),
                MPI_ERR_RMA_RANGE
            );
            assert_eq!(
                class(fast(false, origin(&mut v, 1), at(peer, -1, 1))),
                MPI_ERR_RMA_RANGE
            );
            assert_eq!(
                class(fast(true, origin(&mut v, 1), at(2, 0, 1))),
                MPI_ERR_RANK
            );
            // Sizes that differ, a derived or non-contiguous type, a negative count: the
            // general path's business (it reports them).
            assert!(fast(true, origin(&mut v, 2), at(peer, 0, 1)).is_none());
            assert!(fast(true, origin(&mut v, -1), at(peer, 0, 1)).is_none());
            let pair = At {
                dt: 34,
                ..at(peer, 0, 1)
            }; // MPI_DOUBLE_INT
            assert!(fast(true, origin(&mut v, 2), pair).is_none());
            // PROC_NULL and empty transfers do nothing; a put lands, a get reads it back.
            fast(true, origin(&mut v, 1), at(MPI_PROC_NULL, 99, 1))
                .unwrap()
                .unwrap();
            fast(true, (std::ptr::null_mut(), 0, INT), at(peer, 4, 0))
                .unwrap()
                .unwrap();
            fast(true, origin(&mut v, 2), at(peer, 1, 2))
                .unwrap()
                .unwrap();
            w.fence(0).unwrap();
            assert_eq!(mem, [0, 5, 6, 0]);
            let mut back = [0i32; 2];
            fast(false, origin(&mut back, 2), at(peer, 1, 2))
                .unwrap()
                .unwrap();
            assert_eq!(back, [5, 6]);
            w.fence(MPI_MODE_NOSUCCEED).unwrap();
            w.free().unwrap();
        })
        .unwrap();
    }

    #[test]
    fn dynamic_windows_take_absolute_addresses_inside_attached_regions() {
        pip_comm::run(2, |world| {
            let me = world.rank() as usize;
            let w = Win::new(
                &world,
                std::ptr::null_mut(),
                0,
                1,
                crate::handle::MPI_WIN_FLAVOR_DYNAMIC,
            )
            .unwrap();
            let mut mem = [0i32; 2];
            let addr = mem.as_mut_ptr() as usize;
            w.ctl().with_regions(me, |r| r.push((addr, 8)));
            let mut addrs = [0usize; 2];
            world.all_gather_into(&addr, &mut addrs[..]).unwrap();
            let other = 1 - me;
            w.fence(0).unwrap();
            let a = at(other as c_int, addrs[other] as isize, 1);
            // SAFETY: live i32 origins; the target range is checked against the regions.
            unsafe {
                w.put(
                    &ints(&[7]),
                    At {
                        disp: a.disp + 4,
                        ..a
                    },
                )
                .unwrap();
                let r = w.put(
                    &ints(&[7]),
                    At {
                        disp: a.disp + 8,
                        ..a
                    },
                );
                assert_eq!(r.unwrap_err().class, MPI_ERR_RMA_RANGE);
            }
            w.fence(0).unwrap();
            assert_eq!(mem, [0, 7]);
            w.free().unwrap();
        })
        .unwrap();
    }

    #[test]
    fn spans_cover_negative_and_strided_layouts() {
        let int = crate::datatype::get(INT).unwrap();
        assert_eq!(span(&int, 0), (0, 0));
        assert_eq!(span(&int, 3), (0, 12));
        let mut strided = (*int).clone();
        strided.blocks = vec![(0, 4), (8, 4)];
        strided.size = 8;
        strided.extent = -16;
        assert_eq!(span(&strided, 2), (-16, 12));
    }
}

/// Loom models of the lock word and the post/start/complete/wait counters, on
/// [`Control`](super::control::Control)'s own code: `RUSTFLAGS="--cfg loom" cargo test -p
/// pip-mpi --lib --release loom_`. A `loom::cell::UnsafeCell` stands for window memory, so a
/// missing happens-before edge is reported as a data race.
#[cfg(loom)]
mod models {
    use crate::win::control::Control;
    use loom::cell::UnsafeCell;
    use loom::sync::Arc;

    struct Shared {
        ctl: Control,
        data: UnsafeCell<u32>,
    }

    // SAFETY: `data` is accessed only as the protocol under test allows; loom checks it.
    unsafe impl Sync for Shared {}
    // SAFETY: as above.
    unsafe impl Send for Shared {}

    fn shared(n: usize) -> Arc<Shared> {
        Arc::new(Shared {
            ctl: Control::new(n),
            data: UnsafeCell::new(0),
        })
    }

    /// Two exclusive lockers each add 1 under the lock: no race, and both adds land.
    #[test]
    fn loom_exclusive_locks_exclude_each_other() {
        loom::model(|| {
            let s = shared(2);
            let other = {
                let s = s.clone();
                loom::thread::spawn(move || {
                    s.ctl.lock(0, true);
                    // SAFETY: the exclusive lock is held.
                    s.data.with_mut(|d| unsafe { *d += 1 });
                    s.ctl.unlock(0, true);
                })
            };
            s.ctl.lock(0, true);
            // SAFETY: the exclusive lock is held.
            s.data.with_mut(|d| unsafe { *d += 1 });
            s.ctl.unlock(0, true);
            other.join().unwrap();
            s.ctl.lock(0, false);
            // SAFETY: a shared lock is held and no one writes.
            assert_eq!(s.data.with(|d| unsafe { *d }), 2);
            s.ctl.unlock(0, false);
        });
    }

    /// A shared reader and an exclusive writer: the reader sees the value before or after the
    /// write, never a race.
    #[test]
    fn loom_shared_readers_see_whole_writes() {
        loom::model(|| {
            let s = shared(2);
            let writer = {
                let s = s.clone();
                loom::thread::spawn(move || {
                    s.ctl.lock(1, true);
                    // SAFETY: the exclusive lock is held.
                    s.data.with_mut(|d| unsafe { *d = 7 });
                    s.ctl.unlock(1, true);
                })
            };
            s.ctl.lock(1, false);
            // SAFETY: a shared lock is held, so no writer is inside.
            let v = s.data.with(|d| unsafe { *d });
            s.ctl.unlock(1, false);
            assert!(v == 0 || v == 7);
            writer.join().unwrap();
        });
    }

    /// Target 0 writes, posts to origin 1; the origin starts, reads, puts, completes; the
    /// target waits and reads the put.
    #[test]
    fn loom_post_start_complete_wait_order_the_accesses() {
        loom::model(|| {
            let s = shared(2);
            let origin = {
                let s = s.clone();
                loom::thread::spawn(move || {
                    s.ctl.start(1, &[0]);
                    // SAFETY: the target posted after its write, and waits before its read.
                    let seen = s.data.with(|d| unsafe { *d });
                    assert_eq!(seen, 1);
                    // SAFETY: as above.
                    s.data.with_mut(|d| unsafe { *d = 2 });
                    s.ctl.complete(&[0]);
                })
            };
            // SAFETY: the origin waits for the post below before it touches the data.
            s.data.with_mut(|d| unsafe { *d = 1 });
            s.ctl.post(0, &[1]);
            s.ctl.wait_completed(0, 1);
            // SAFETY: the origin completed.
            assert_eq!(s.data.with(|d| unsafe { *d }), 2);
            origin.join().unwrap();
        });
    }
}
