//! Every collective against a serial computation: several rank counts (1, powers of two and
//! not), sizes (empty, tiny, and large enough for the segmented and chunked paths), roots,
//! operations, in place and not, on the world and on split communicators; the error paths.

mod common;

use pip_comm::collective::displacements;
use pip_comm::prelude::*;
use pip_comm::{run, Error, SimpleCommunicator, SystemOperation, UserOperation};

const RANKS: [usize; 6] = [1, 2, 3, 4, 5, 8];
const COUNTS: [usize; 5] = [0, 1, 7, 1000, 20_000];

/// Rank `r`'s input of `len` elements in round `salt`.
fn data(r: usize, len: usize, salt: u64) -> Vec<u64> {
    (0..len as u64)
        .map(|i| (i * 2654435761 + r as u64 * 97 + salt * 31).wrapping_mul(0x9e37_79b9) >> 7)
        .collect()
}

/// An associative, non-commutative operation: composition of affine maps x -> a x + b
/// (wrapping), `[a, b]`; `input ∘ inout` applies inout first.
fn compose(input: &[[u64; 2]], inout: &mut [[u64; 2]]) {
    for (f, g) in input.iter().zip(inout.iter_mut()) {
        // (f ∘ g)(x) = f(g(x)) = fa (ga x + gb) + fb
        *g = [
            f[0].wrapping_mul(g[0]),
            f[0].wrapping_mul(g[1]).wrapping_add(f[1]),
        ];
    }
}

fn affine(r: usize, len: usize) -> Vec<[u64; 2]> {
    data(r, len, 5)
        .into_iter()
        .map(|v| [v | 1, v >> 3])
        .collect()
}

fn serial_compose(ranks: std::ops::Range<usize>, len: usize) -> Vec<[u64; 2]> {
    let mut it = ranks.rev();
    let mut acc = affine(it.next().unwrap(), len);
    for r in it {
        compose(&affine(r, len), &mut acc);
    }
    acc
}

fn serial_sum(ranks: std::ops::Range<usize>, len: usize, salt: u64) -> Vec<u64> {
    let mut acc = vec![0u64; len];
    for r in ranks {
        for (a, x) in acc.iter_mut().zip(data(r, len, salt)) {
            *a = a.wrapping_add(x);
        }
    }
    acc
}

fn ok<T>(r: pip_comm::Result<Vec<T>>) -> Vec<T> {
    r.unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn broadcast_from_every_root() {
    let _w = common::watchdog("broadcast_from_every_root");
    for n in RANKS {
        ok(run(n, |world| {
            for len in COUNTS {
                for root in 0..n {
                    let me = world.rank() as usize;
                    let mut buf = if me == root {
                        data(root, len, 1)
                    } else {
                        vec![0; len]
                    };
                    world
                        .process_at_rank(root as i32)
                        .broadcast_into(&mut buf[..])
                        .unwrap();
                    assert!(buf == data(root, len, 1), "n={n} len={len} root={root}");
                }
            }
        }));
    }
}

#[test]
fn all_reduce_sum_and_user_ops() {
    let _w = common::watchdog("all_reduce_sum_and_user_ops");
    for n in RANKS {
        ok(run(n, |world| {
            let me = world.rank() as usize;
            for len in COUNTS {
                let mine = data(me, len, 2);
                let mut sum = vec![0u64; len];
                world
                    .all_reduce_into(&mine[..], &mut sum[..], SystemOperation::sum())
                    .unwrap();
                assert!(sum == serial_sum(0..n, len, 2), "n={n} len={len}");
                // In place.
                let mut buf = data(me, len, 2);
                world
                    .all_reduce_in_place(&mut buf[..], SystemOperation::sum())
                    .unwrap();
                assert!(buf == sum, "in place n={n} len={len}");
                // Non-commutative user operation, in place and not.
                let op = UserOperation::new(compose);
                let mine = affine(me, len);
                let mut out = vec![[0u64; 2]; len];
                world.all_reduce_into(&mine[..], &mut out[..], &op).unwrap();
                assert!(out == serial_compose(0..n, len), "compose n={n} len={len}");
                let mut buf = affine(me, len);
                world.all_reduce_in_place(&mut buf[..], &op).unwrap();
                assert!(buf == out, "compose in place n={n} len={len}");
            }
        }));
    }
}

/// A built-in operation and the serial function it must match.
type OpAndModel = (SystemOperation, fn(i32, i32) -> i32);

#[test]
fn every_builtin_operation() {
    let _w = common::watchdog("every_builtin_operation");
    let ops: [OpAndModel; 10] = [
        (SystemOperation::sum(), |a, b| a.wrapping_add(b)),
        (SystemOperation::product(), |a, b| a.wrapping_mul(b)),
        (SystemOperation::min(), |a, b| a.min(b)),
        (SystemOperation::max(), |a, b| a.max(b)),
        (SystemOperation::bitwise_and(), |a, b| a & b),
        (SystemOperation::bitwise_or(), |a, b| a | b),
        (SystemOperation::bitwise_xor(), |a, b| a ^ b),
        (SystemOperation::logical_and(), |a, b| {
            (a != 0 && b != 0) as i32
        }),
        (SystemOperation::logical_or(), |a, b| {
            (a != 0 || b != 0) as i32
        }),
        (SystemOperation::logical_xor(), |a, b| {
            ((a != 0) != (b != 0)) as i32
        }),
    ];
    let input = |r: usize, i: usize| -> i32 { ((r * 7 + i * 13) % 5) as i32 - 1 };
    for n in [1, 3, 4] {
        ok(run(n, |world| {
            let me = world.rank() as usize;
            for (op, f) in ops {
                for len in [1, 6, 5000] {
                    let mine: Vec<i32> = (0..len).map(|i| input(me, i)).collect();
                    let mut out = vec![0i32; len];
                    world.all_reduce_into(&mine[..], &mut out[..], op).unwrap();
                    let want: Vec<i32> = (0..len)
                        .map(|i| (0..n).map(|r| input(r, i)).reduce(f).unwrap())
                        .collect();
                    assert_eq!(out, want, "{} n={n} len={len}", op.name());
                }
            }
            // Floats: arithmetic ones.
            let mut m = 0.0f64;
            world
                .all_reduce_into(&(me as f64 * 0.5), &mut m, SystemOperation::max())
                .unwrap();
            assert_eq!(m, (n - 1) as f64 * 0.5);
        }));
    }
}

#[test]
fn reduce_to_every_root() {
    let _w = common::watchdog("reduce_to_every_root");
    for n in RANKS {
        ok(run(n, |world| {
            let me = world.rank() as usize;
            for len in COUNTS {
                for root in 0..n {
                    let p = world.process_at_rank(root as i32);
                    let mine = data(me, len, 3);
                    if me == root {
                        let mut out = vec![0u64; len];
                        p.reduce_into_root(&mine[..], &mut out[..], SystemOperation::sum())
                            .unwrap();
                        assert!(
                            out == serial_sum(0..n, len, 3),
                            "n={n} len={len} root={root}"
                        );
                    } else {
                        p.reduce_into(&mine[..], SystemOperation::sum()).unwrap();
                    }
                    // In place at the root, with a non-commutative operation.
                    let mut buf = affine(me, len);
                    p.reduce_in_place_root(&mut buf[..], UserOperation::new(compose))
                        .unwrap();
                    if me == root {
                        assert!(buf == serial_compose(0..n, len), "compose n={n} len={len}");
                    }
                }
            }
        }));
    }
}

#[test]
fn scans() {
    let _w = common::watchdog("scans");
    for n in RANKS {
        ok(run(n, |world| {
            let me = world.rank() as usize;
            for len in COUNTS {
                let mine = data(me, len, 4);
                let mut out = vec![0u64; len];
                world
                    .scan_into(&mine[..], &mut out[..], SystemOperation::sum())
                    .unwrap();
                assert!(out == serial_sum(0..me + 1, len, 4), "scan n={n} len={len}");
                let mut ex = vec![7u64; len];
                world
                    .exclusive_scan_into(&mine[..], &mut ex[..], SystemOperation::sum())
                    .unwrap();
                if me == 0 {
                    assert!(ex.iter().all(|&x| x == 7), "rank 0 untouched");
                } else {
                    assert!(ex == serial_sum(0..me, len, 4), "exscan n={n} len={len}");
                }
                let mut buf = affine(me, len);
                world
                    .scan_in_place(&mut buf[..], UserOperation::new(compose))
                    .unwrap();
                assert!(buf == serial_compose(0..me + 1, len), "scan in place n={n}");
                let mut buf = affine(me, len);
                world
                    .exclusive_scan_in_place(&mut buf[..], UserOperation::new(compose))
                    .unwrap();
                if me > 0 {
                    assert!(buf == serial_compose(0..me, len), "exscan in place n={n}");
                } else {
                    assert!(buf == affine(0, len));
                }
            }
        }));
    }
}

#[test]
fn gathers_and_scatters() {
    let _w = common::watchdog("gathers_and_scatters");
    for n in RANKS {
        ok(run(n, |world| {
            let me = world.rank() as usize;
            for len in [0usize, 1, 5, 3000, 40_000] {
                let all: Vec<u64> = (0..n).flat_map(|r| data(r, len, 6)).collect();
                for root in 0..n {
                    let p = world.process_at_rank(root as i32);
                    let mine = data(me, len, 6);
                    // Gather.
                    if me == root {
                        let mut out = vec![0u64; n * len];
                        p.gather_into_root(&mine[..], &mut out[..]).unwrap();
                        assert!(out == all, "gather n={n} len={len} root={root}");
                        let mut inplace = vec![0u64; n * len];
                        inplace[me * len..(me + 1) * len].copy_from_slice(&mine);
                        p.gather_in_place_root(&mut inplace[..]).unwrap();
                        assert!(inplace == all);
                    } else {
                        p.gather_into(&mine[..]).unwrap();
                        p.gather_into(&mine[..]).unwrap();
                    }
                    // Scatter.
                    let mut got = vec![0u64; len];
                    if me == root {
                        p.scatter_into_root(&all[..], &mut got[..]).unwrap();
                    } else {
                        p.scatter_into(&mut got[..]).unwrap();
                    }
                    assert!(got == mine, "scatter n={n} len={len} root={root}");
                    let mut got = vec![0u64; len];
                    if me == root {
                        p.scatter_in_place_root(&all[..]).unwrap();
                    } else {
                        p.scatter_into(&mut got[..]).unwrap();
                        assert!(got == mine);
                    }
                }
            }
        }));
    }
}

#[test]
fn varcount_gathers_and_scatters() {
    let _w = common::watchdog("varcount_gathers_and_scatters");
    for n in RANKS {
        ok(run(n, |world| {
            let me = world.rank() as usize;
            for scale in [0usize, 1, 777] {
                // Rank r has (r % 3) * scale + r elements; pieces laid out in reverse order.
                let counts: Vec<usize> = (0..n).map(|r| (r % 3) * scale + r).collect();
                let total: usize = counts.iter().sum();
                let mut displs = vec![0; n];
                let mut at = total;
                for r in 0..n {
                    at -= counts[r];
                    displs[r] = at;
                }
                let piece = |r: usize| data(r, counts[r], 7);
                let mut all = vec![0u64; total];
                for r in 0..n {
                    all[displs[r]..displs[r] + counts[r]].copy_from_slice(&piece(r));
                }
                let mine = piece(me);
                for root in 0..n {
                    let p = world.process_at_rank(root as i32);
                    if me == root {
                        let mut out = vec![0u64; total];
                        let mut recv = PartitionMut::new(&mut out[..], &counts[..], &displs[..]);
                        p.gather_varcount_into_root(&mine[..], &mut recv).unwrap();
                        assert!(out == all, "gatherv n={n} scale={scale} root={root}");
                    } else {
                        p.gather_varcount_into(&mine[..]).unwrap();
                    }
                    let mut got = vec![0u64; counts[me]];
                    if me == root {
                        let send = Partition::new(&all[..], &counts[..], &displs[..]);
                        p.scatter_varcount_into_root(&send, &mut got[..]).unwrap();
                    } else {
                        p.scatter_varcount_into(&mut got[..]).unwrap();
                    }
                    assert!(got == mine, "scatterv n={n} scale={scale} root={root}");
                }
                let mut out = vec![0u64; total];
                let mut recv = PartitionMut::new(&mut out[..], &counts[..], &displs[..]);
                world
                    .all_gather_varcount_into(&mine[..], &mut recv)
                    .unwrap();
                assert!(out == all, "allgatherv n={n} scale={scale}");
            }
            // The displacements helper lays pieces end to end.
            assert_eq!(displacements(&[3, 1, 0, 2]), [0, 3, 4, 4]);
        }));
    }
}

#[test]
fn all_gathers_and_all_to_alls() {
    let _w = common::watchdog("all_gathers_and_all_to_alls");
    for n in RANKS {
        ok(run(n, |world| {
            let me = world.rank() as usize;
            for len in [0usize, 1, 9, 5000, 30_000] {
                let all: Vec<u64> = (0..n).flat_map(|r| data(r, len, 8)).collect();
                let mut out = vec![0u64; n * len];
                world
                    .all_gather_into(&data(me, len, 8)[..], &mut out[..])
                    .unwrap();
                assert!(out == all, "allgather n={n} len={len}");
                let mut buf = vec![0u64; n * len];
                buf[me * len..(me + 1) * len].copy_from_slice(&data(me, len, 8));
                world.all_gather_in_place(&mut buf[..]).unwrap();
                assert!(buf == all, "allgather in place n={n} len={len}");
                // All-to-all: rank r's piece for q is data(r * n + q).
                let send: Vec<u64> = (0..n).flat_map(|q| data(me * n + q, len, 9)).collect();
                let want: Vec<u64> = (0..n).flat_map(|q| data(q * n + me, len, 9)).collect();
                let mut recv = vec![0u64; n * len];
                world.all_to_all_into(&send[..], &mut recv[..]).unwrap();
                assert!(recv == want, "alltoall n={n} len={len}");
                let mut buf = send.clone();
                world.all_to_all_in_place(&mut buf[..]).unwrap();
                assert!(buf == want, "alltoall in place n={n} len={len}");
                // All-to-all-v: rank r sends (r + q) % 3 * len / 2 + 1 elements to q.
                let c = |from: usize, to: usize| (from + to) % 3 * len / 2 + 1;
                let sc: Vec<usize> = (0..n).map(|q| c(me, q)).collect();
                let sd = displacements(&sc);
                let rc: Vec<usize> = (0..n).map(|q| c(q, me)).collect();
                let rd = displacements(&rc);
                let send: Vec<u64> = (0..n).flat_map(|q| data(me * n + q, sc[q], 10)).collect();
                let want: Vec<u64> = (0..n).flat_map(|q| data(q * n + me, rc[q], 10)).collect();
                let mut recv = vec![0u64; want.len()];
                let from = Partition::new(&send[..], &sc[..], &sd[..]);
                let mut into = PartitionMut::new(&mut recv[..], &rc[..], &rd[..]);
                world.all_to_all_varcount_into(&from, &mut into).unwrap();
                assert!(recv == want, "alltoallv n={n} len={len}");
            }
        }));
    }
}

#[test]
fn collectives_on_split_communicators() {
    let _w = common::watchdog("collectives_on_split_communicators");
    ok(run(7, |world| {
        let me = world.rank();
        let half: SimpleCommunicator = world
            .split_by_color_with_key(Color::with_value(me % 2), -me)
            .unwrap()
            .unwrap();
        let dup = world.duplicate().unwrap();
        for round in 0..20u64 {
            // Interleave collectives on three communicators.
            let mut s = 0u64;
            half.all_reduce_into(&(me as u64 + round), &mut s, SystemOperation::sum())
                .unwrap();
            let members: Vec<u64> = (0..7)
                .filter(|r| r % 2 == me % 2)
                .map(|r| r as u64)
                .collect();
            assert_eq!(s, members.iter().map(|r| r + round).sum::<u64>());
            let mut all = vec![0i32; 7];
            dup.all_gather_into(&me, &mut all[..]).unwrap();
            assert_eq!(all, (0..7).collect::<Vec<_>>());
            let mut v = [round; 3];
            if half.rank() != 0 {
                v = [0; 3];
            }
            half.process_at_rank(0).broadcast_into(&mut v[..]).unwrap();
            assert_eq!(v, [round; 3]);
            let mut big = if world.rank() == 2 {
                data(2, 9000, round)
            } else {
                vec![0; 9000]
            };
            world
                .process_at_rank(2)
                .broadcast_into(&mut big[..])
                .unwrap();
            assert!(big == data(2, 9000, round));
        }
    }));
}

#[test]
fn sixteen_ranks_on_two_cores() {
    let _w = common::watchdog("sixteen_ranks_on_two_cores");
    const N: usize = 16;
    ok(run(N, |world| {
        let me = world.rank() as usize;
        for round in 0..30u64 {
            let len = [1usize, 100, 4000][round as usize % 3];
            let mine = data(me, len, round);
            let mut sum = vec![0u64; len];
            world
                .all_reduce_into(&mine[..], &mut sum[..], SystemOperation::sum())
                .unwrap();
            assert!(sum == serial_sum(0..N, len, round));
            let root = (round as usize * 5) % N;
            let mut b = if me == root {
                data(root, len, round)
            } else {
                vec![0; len]
            };
            world
                .process_at_rank(root as i32)
                .broadcast_into(&mut b[..])
                .unwrap();
            assert!(b == data(root, len, round));
            let mut all = vec![0u64; N];
            world.all_gather_into(&(me as u64), &mut all[..]).unwrap();
            assert_eq!(all, (0..N as u64).collect::<Vec<_>>());
            let send: Vec<u64> = (0..N).map(|q| (me * N + q) as u64).collect();
            let mut recv = vec![0u64; N];
            world.all_to_all_into(&send[..], &mut recv[..]).unwrap();
            assert_eq!(
                recv,
                (0..N).map(|q| (q * N + me) as u64).collect::<Vec<_>>()
            );
            let mut pre = 0u64;
            world
                .scan_into(&1u64, &mut pre, SystemOperation::sum())
                .unwrap();
            assert_eq!(pre, me as u64 + 1);
        }
    }));
}

#[test]
fn argument_errors_are_typed_and_every_rank_finishes() {
    let _w = common::watchdog("argument_errors_are_typed_and_every_rank_finishes");
    ok(run(3, |world| {
        let me = world.rank();
        // Root out of range: every rank says so.
        let mut b = [0u8; 4];
        assert!(matches!(
            world.process_at_rank(3).broadcast_into(&mut b[..]),
            Err(Error::RankOutOfRange { rank: 3, size: 3 })
        ));
        // Different lengths: the ranks that read a different length report it.
        let mut b = vec![0u32; if me == 1 { 5 } else { 4 }];
        let r = world.process_at_rank(0).broadcast_into(&mut b[..]);
        if me == 1 {
            assert!(
                matches!(
                    r,
                    Err(Error::CollectiveMismatch {
                        what: "the element count",
                        rank: 0,
                        ours: 5,
                        theirs: 4
                    })
                ),
                "{r:?}"
            );
        } else {
            assert!(r.is_ok(), "{r:?}");
        }
        // Different roots.
        let mut b = [0u8; 2];
        let r = world
            .process_at_rank(if me == 2 { 1 } else { 0 })
            .broadcast_into(&mut b[..]);
        if me == 2 {
            assert!(
                matches!(
                    r,
                    Err(Error::CollectiveMismatch {
                        what: "the root",
                        ..
                    })
                ),
                "{r:?}"
            );
        }
        // Different operations: everyone reads everyone in an all-reduce.
        let op = if me == 0 {
            SystemOperation::sum()
        } else {
            SystemOperation::max()
        };
        let mut out = 0u32;
        let r = world.all_reduce_into(&1u32, &mut out, op);
        assert!(
            matches!(
                r,
                Err(Error::CollectiveNameMismatch {
                    what: "the operation",
                    ..
                })
            ),
            "{r:?}"
        );
        // An operation undefined for the type: every rank, and its peers, report.
        let mut f = 0.0f64;
        let r = world.all_reduce_into(&1.0f64, &mut f, SystemOperation::bitwise_xor());
        assert!(
            matches!(
                r,
                Err(Error::InvalidOperation {
                    op: "bitwise_xor",
                    ty: "f64"
                })
            ),
            "{r:?}"
        );
        // A short receive buffer on one rank: it reports the size, the others its failure.
        let mut out = vec![0u64; if me == 2 { 1 } else { 3 }];
        let r = world.all_reduce_into(&[1u64, 2, 3][..], &mut out[..], SystemOperation::sum());
        if me == 2 {
            assert!(
                matches!(
                    r,
                    Err(Error::CollectiveBuffer {
                        needed: 3,
                        len: 1,
                        ..
                    })
                ),
                "{r:?}"
            );
        } else {
            assert!(matches!(r, Err(Error::CollectivePeer { rank: 2 })), "{r:?}");
        }
        // The root calling the non-root variant.
        let r = world.process_at_rank(1).gather_into(&[me][..]);
        if me == 1 {
            assert!(
                matches!(r, Err(Error::RootVariantRequired { rank: 1, .. })),
                "{r:?}"
            );
        } else {
            assert!(matches!(r, Err(Error::CollectivePeer { rank: 1 })), "{r:?}");
        }
        // Different collectives: rank 1 broadcasts while the others all-gather.
        let r = if me == 1 {
            let mut b = [0i32; 3];
            world.process_at_rank(0).broadcast_into(&mut b[..])
        } else {
            let mut all = [0i32; 3];
            world.all_gather_into(&me, &mut all[..])
        };
        assert!(
            matches!(
                r,
                Err(Error::CollectiveNameMismatch {
                    what: "the collective",
                    ..
                })
            ),
            "{r:?}"
        );
        // Mismatched counts in a gatherv.
        let r = if me == 0 {
            let mut out = [0u8; 6];
            let mut recv = PartitionMut::new(&mut out[..], &[1, 2, 3][..], &[0, 1, 3][..]);
            world
                .process_at_rank(0)
                .gather_varcount_into_root(&[0u8][..], &mut recv)
        } else {
            world.process_at_rank(0).gather_varcount_into(&[1u8; 2][..])
        };
        if me == 2 {
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
        } else {
            assert!(r.is_ok(), "{r:?}");
        }
        // Layout out of range at the root.
        let r = if me == 0 {
            let mut out = [0u8; 2];
            let mut recv = PartitionMut::new(&mut out[..], &[1, 1, 1][..], &[0, 1, 2][..]);
            world
                .process_at_rank(0)
                .gather_varcount_into_root(&[0u8][..], &mut recv)
        } else {
            world.process_at_rank(0).gather_varcount_into(&[1u8][..])
        };
        if me == 0 {
            assert!(
                matches!(
                    r,
                    Err(Error::CollectiveBuffer {
                        needed: 3,
                        len: 2,
                        ..
                    })
                ),
                "{r:?}"
            );
        } else {
            assert!(matches!(r, Err(Error::CollectivePeer { rank: 0 })), "{r:?}");
        }
        // After all that, collectives still work.
        let mut s = 0i32;
        world
            .all_reduce_into(&me, &mut s, SystemOperation::sum())
            .unwrap();
        assert_eq!(s, 3);
    }));
}

#[test]
fn a_panicking_user_operation_aborts_cleanly() {
    let _w = common::watchdog("a_panicking_user_operation_aborts_cleanly");
    let r = run(3, |world| {
        let op = UserOperation::new(|_: &[u32], _: &mut [u32]| {
            panic!("boom");
        });
        let mut out = [0u32; 4];
        let r = world.all_reduce_into(&[1u32; 4][..], &mut out[..], op);
        // Ranks that did not panic see the abort.
        assert!(matches!(r, Err(Error::Aborted { .. })), "{r:?}");
    });
    assert!(matches!(r, Err(Error::RankPanicked { .. })), "{r:?}");
}
