//! The small-payload path of the collectives (the collective lines): every collective against
//! a serial computation at sizes around the path's limit, long mixed sequences (small and
//! large, several communicators interleaved), a rank that panics in the middle, ranks that
//! disagree across the limit, and more communicators than the pool has blocks.

mod common;

use pip_comm::prelude::*;
use pip_comm::{run, Error, SimpleCommunicator, SystemOperation, UserOperation};

const RANKS: [usize; 5] = [1, 2, 3, 4, 7];
/// u32 counts: tiny, one line, a few lines, the region's limit (2 KiB up to 16 ranks), above.
const COUNTS: [usize; 6] = [1, 2, 8, 100, 512, 513];

/// Rank `r`'s input of `len` elements in round `salt`.
fn data(r: usize, len: usize, salt: u32) -> Vec<u32> {
    (0..len as u32)
        .map(|i| (i.wrapping_mul(2654435761) ^ (r as u32 * 97 + salt * 31)).wrapping_mul(7))
        .collect()
}

fn serial_sum(n: usize, len: usize, salt: u32) -> Vec<u32> {
    let mut acc = vec![0u32; len];
    for r in 0..n {
        for (a, x) in acc.iter_mut().zip(data(r, len, salt)) {
            *a = a.wrapping_add(x);
        }
    }
    acc
}

fn ok<T>(r: pip_comm::Result<Vec<T>>) -> Vec<T> {
    r.unwrap_or_else(|e| panic!("{e}"))
}

/// Every collective once, at `len` elements per piece, in round `salt`, checked.
fn every_collective(comm: &SimpleCommunicator, len: usize, salt: u32) {
    let (me, n) = (comm.rank() as usize, comm.size() as usize);
    let root = salt as usize % n;
    let mine = data(me, len, salt);
    // All-reduce, in place and not.
    let mut sum = vec![0u32; len];
    comm.all_reduce_into(&mine[..], &mut sum[..], SystemOperation::sum())
        .unwrap();
    assert_eq!(sum, serial_sum(n, len, salt));
    let mut v = mine.clone();
    comm.all_reduce_in_place(&mut v[..], SystemOperation::sum())
        .unwrap();
    assert_eq!(v, sum);
    // Reduce.
    let p = comm.process_at_rank(root as i32);
    if me == root {
        let mut out = vec![0u32; len];
        p.reduce_into_root(&mine[..], &mut out[..], SystemOperation::sum())
            .unwrap();
        assert_eq!(out, sum);
    } else {
        p.reduce_into(&mine[..], SystemOperation::sum()).unwrap();
    }
    // Broadcast.
    let mut b = if me == root {
        mine.clone()
    } else {
        vec![0; len]
    };
    p.broadcast_into(&mut b[..]).unwrap();
    assert_eq!(b, data(root, len, salt));
    comm.barrier().unwrap();
    // All-gather, in place and not.
    let mut all = vec![0u32; n * len];
    comm.all_gather_into(&mine[..], &mut all[..]).unwrap();
    let want: Vec<u32> = (0..n).flat_map(|r| data(r, len, salt)).collect();
    assert_eq!(all, want);
    let mut all = vec![0u32; n * len];
    all[me * len..(me + 1) * len].copy_from_slice(&mine);
    comm.all_gather_in_place(&mut all[..]).unwrap();
    assert_eq!(all, want);
    // Gather.
    if me == root {
        let mut g = vec![0u32; n * len];
        p.gather_into_root(&mine[..], &mut g[..]).unwrap();
        assert_eq!(g, want);
    } else {
        p.gather_into(&mine[..]).unwrap();
    }
    // Scatter: the root's `want` cut in pieces.
    let mut piece = vec![0u32; len];
    if me == root {
        p.scatter_into_root(&want[..], &mut piece[..]).unwrap();
    } else {
        p.scatter_into(&mut piece[..]).unwrap();
    }
    assert_eq!(piece, data(me, len, salt));
    // All-to-all: piece `to` of rank `r` is data(r * n + to).
    let send: Vec<u32> = (0..n).flat_map(|to| data(me * n + to, len, salt)).collect();
    let mut recv = vec![0u32; n * len];
    comm.all_to_all_into(&send[..], &mut recv[..]).unwrap();
    let want: Vec<u32> = (0..n).flat_map(|r| data(r * n + me, len, salt)).collect();
    assert_eq!(recv, want);
}

#[test]
fn every_collective_matches_a_serial_computation() {
    let _w = common::watchdog("every_collective_matches_a_serial_computation");
    for n in RANKS {
        ok(run(n, |world| {
            for (i, len) in COUNTS.into_iter().enumerate() {
                every_collective(&world, len, i as u32);
            }
        }));
    }
}

/// `[a, b]` as the map x -> a x + b; `input ∘ inout` applies `inout` first: associative, not
/// commutative, so the fold order shows.
fn compose(input: &[[u32; 2]], inout: &mut [[u32; 2]]) {
    for (f, g) in input.iter().zip(inout.iter_mut()) {
        *g = [
            f[0].wrapping_mul(g[0]),
            f[0].wrapping_mul(g[1]).wrapping_add(f[1]),
        ];
    }
}

#[test]
fn small_reductions_fold_in_rank_order() {
    let _w = common::watchdog("small_reductions_fold_in_rank_order");
    for n in RANKS {
        ok(run(n, |world| {
            let me = world.rank() as usize;
            let f = |r: usize| [[r as u32 * 2 + 3, r as u32 + 1], [r as u32 + 5, 7]];
            let mut want = f(n - 1);
            for r in (0..n - 1).rev() {
                compose(&f(r), &mut want);
            }
            let mut out = [[0u32; 2]; 2];
            let op = UserOperation::new(compose);
            world
                .all_reduce_into(&f(me)[..], &mut out[..], &op)
                .unwrap();
            assert_eq!(out, want);
            let root = world.process_at_rank(n as i32 - 1);
            if me == n - 1 {
                let mut out = [[0u32; 2]; 2];
                root.reduce_into_root(&f(me)[..], &mut out[..], &op)
                    .unwrap();
                assert_eq!(out, want);
            } else {
                root.reduce_into(&f(me)[..], &op).unwrap();
            }
        }));
    }
}

/// Many collectives back to back, small and large alternating, kinds rotating, on the world,
/// a duplicate and a split, interleaved.
#[test]
fn mixed_sequences_on_interleaved_communicators() {
    let _w = common::watchdog("mixed_sequences_on_interleaved_communicators");
    for n in [2, 3, 4] {
        ok(run(n, |world| {
            let me = world.rank();
            let dup = world.duplicate().unwrap();
            let half = world
                .split_by_color(Color::with_value(me % 2))
                .unwrap()
                .unwrap();
            for round in 0..300u32 {
                let len = [1, 3, 512, 5000, 16][round as usize % 5];
                let comm = [&world, &dup, &half][round as usize % 3];
                let (cme, cn) = (comm.rank() as usize, comm.size() as usize);
                let mine = data(cme, len, round);
                match round % 4 {
                    0 => {
                        let mut s = vec![0; len];
                        comm.all_reduce_into(&mine[..], &mut s[..], SystemOperation::sum())
                            .unwrap();
                        assert_eq!(s, serial_sum(cn, len, round));
                    }
                    1 => {
                        let root = round as usize % cn;
                        let mut b = if cme == root { mine } else { vec![0; len] };
                        comm.process_at_rank(root as i32)
                            .broadcast_into(&mut b[..])
                            .unwrap();
                        assert_eq!(b, data(root, len, round));
                    }
                    2 => comm.barrier().unwrap(),
                    _ => {
                        let mut all = vec![0u32; cn * len];
                        comm.all_gather_into(&mine[..], &mut all[..]).unwrap();
                        let want: Vec<u32> = (0..cn).flat_map(|r| data(r, len, round)).collect();
                        assert_eq!(all, want);
                    }
                }
            }
        }));
    }
}

/// A rank that panics in the middle of a stream of small collectives: the others get
/// `Aborted` from whatever collective they are in, nobody hangs.
#[test]
fn a_panic_in_the_middle_releases_the_others() {
    let _w = common::watchdog("a_panic_in_the_middle_releases_the_others");
    for n in [2, 4] {
        let r = run(n, |world| {
            let mut s = 0u64;
            for round in 0..1000u64 {
                if world.rank() == 1 && round == 500 {
                    panic!("boom in round 500");
                }
                let r = match round % 3 {
                    0 => world.all_reduce_into(&round, &mut s, SystemOperation::sum()),
                    1 => world.barrier(),
                    _ => world.process_at_rank(0).broadcast_into(&mut s),
                };
                if let Err(e) = r {
                    assert!(matches!(e, Error::Aborted { rank: 1 }), "{e}");
                    return;
                }
            }
            // Every rank needs rank 1 in the all-reduces after round 500.
            unreachable!("rank {} finished without rank 1", world.rank());
        });
        assert!(
            matches!(r, Err(Error::RankPanicked { rank: 1, .. })),
            "{r:?}"
        );
    }
}

/// Ranks whose counts put them on different paths (small and general) report a mismatch
/// instead of waiting for each other, and the communicator goes on working.
#[test]
fn ranks_on_different_paths_report_a_mismatch() {
    let _w = common::watchdog("ranks_on_different_paths_report_a_mismatch");
    ok(run(3, |world| {
        let me = world.rank();
        let len = if me == 1 { 4000 } else { 4 };
        let mine = vec![1u32; len];
        let mut out = vec![0u32; len];
        let r = world.all_reduce_into(&mine[..], &mut out[..], SystemOperation::sum());
        assert!(
            matches!(
                r,
                Err(Error::CollectiveMismatch {
                    what: "the element count",
                    ..
                })
            ),
            "{r:?}"
        );
        let mut b = vec![0u32; len];
        let r = world.process_at_rank(1).broadcast_into(&mut b[..]);
        if me != 1 {
            assert!(r.is_err(), "{r:?}");
        }
        // Rank 0, the root, stages and returns; rank 2 copies; rank 1 finds the small path.
        let r = world.process_at_rank(0).broadcast_into(&mut b[..]);
        assert_eq!(r.is_err(), me == 1, "{r:?}");
        // Still in step afterwards.
        let mut s = 0u32;
        world
            .all_reduce_into(&1u32, &mut s, SystemOperation::sum())
            .unwrap();
        assert_eq!(s, 3);
        world.barrier().unwrap();
    }));
}

/// More live communicators than the pool has blocks: the later ones use the general path, and
/// blocks given back are taken again.
#[test]
fn communicators_beyond_the_pool_use_the_general_path() {
    let _w = common::watchdog("communicators_beyond_the_pool_use_the_general_path");
    ok(run(3, |world| {
        for _ in 0..2 {
            let comms: Vec<_> = (0..24).map(|_| world.duplicate().unwrap()).collect();
            for (i, c) in comms.iter().enumerate().rev() {
                let mut s = 0u32;
                c.all_reduce_into(&(i as u32), &mut s, SystemOperation::sum())
                    .unwrap();
                assert_eq!(s, 3 * i as u32);
                c.barrier().unwrap();
            }
        }
        every_collective(&world, 3, 1);
    }));
}
