//! The schedules of the non-blocking collectives, run on pip-comm worlds of threads (the C
//! programs check them through MPI_Wait once the completion calls exist).

use super::alltoallw::run;
use super::nonblocking::{iall, ibarrier, ibcast, igather, ireduce, iscatter};
use super::schedule::Schedule;
use super::Typed;
use crate::comm::Comm;
use crate::handle::{MPI_ERRORS_RETURN, MPI_SUM};
use crate::request::Pending;
use pip_comm::prelude::*;
use std::ffi::c_void;
use std::rc::Rc;

/// `MPI_INT`'s and `MPI_DOUBLE_INT`'s handles in `mpi.h`.
const INT: i32 = 8;
const DOUBLE_INT: i32 = 34;

fn comm(world: SimpleCommunicator) -> Rc<Comm> {
    Rc::new(Comm::new(world, MPI_ERRORS_RETURN).unwrap())
}

fn ints(n: usize) -> Typed {
    Typed::new(n as i32, INT, "n").unwrap()
}

/// Waits for several schedules in the order given.
fn wait_all(c: &Comm, all: Vec<Schedule>) {
    for s in all {
        run(c, s).unwrap();
    }
}

/// The ring exchange a rank does between starting collectives and waiting for them: each
/// rank's blocking receive needs its left neighbour to have started (not finished) the
/// collectives.
fn ring(c: &Comm) {
    let (me, n) = (c.rank(), c.size());
    let right = c.pc.process_at_rank((me + 1) % n);
    let left = c.pc.process_at_rank((me + n - 1) % n);
    let mut got = 0i32;
    if me % 2 == 0 {
        right.send(&me).unwrap();
        left.receive_into(&mut got).unwrap();
    } else {
        left.receive_into(&mut got).unwrap();
        right.send(&me).unwrap();
    }
    assert_eq!(got, (me + n - 1) % n);
}

#[test]
fn several_collectives_outstanding_around_point_to_point() {
    for n in [1, 2, 3, 5] {
        pip_comm::run(n, |world| {
            let c = comm(world);
            let (me, size) = (c.rank(), c.size());
            let root = size - 1;
            let mut b = if me == root { [7i32, 8, 9] } else { [0; 3] };
            let mine = [me + 1, 10 * me];
            let mut sum = [0i32; 2];
            let mut all = vec![-1i32; 2 * size as usize];
            let mut at_root = vec![-1i32; 2 * size as usize];
            // SAFETY: every buffer outlives the schedules, waited for below.
            let started = unsafe {
                vec![
                    ibarrier(c.clone()).unwrap(),
                    ibcast(c.clone(), b.as_mut_ptr().cast(), &ints(3), root).unwrap(),
                    ireduce(
                        c.clone(),
                        mine.as_ptr().cast(),
                        sum.as_mut_ptr().cast(),
                        &ints(2),
                        MPI_SUM,
                        None,
                    )
                    .unwrap(),
                    iall(
                        c.clone(),
                        Some((mine.as_ptr().cast(), ints(2))),
                        (all.as_mut_ptr().cast(), ints(2)),
                        false,
                    )
                    .unwrap(),
                    igather(
                        c.clone(),
                        Some((mine.as_ptr().cast(), ints(2))),
                        (at_root.as_mut_ptr().cast(), ints(2)),
                        0,
                    )
                    .unwrap(),
                ]
            };
            if size > 1 {
                ring(&c);
            }
            let mut started = started;
            started.reverse();
            wait_all(&c, started);
            assert_eq!(b, [7, 8, 9]);
            let want = [(1..=size).sum::<i32>(), 10 * (0..size).sum::<i32>()];
            assert_eq!(sum, want);
            let expect: Vec<i32> = (0..size).flat_map(|r| [r + 1, 10 * r]).collect();
            assert_eq!(all, expect);
            if me == 0 {
                assert_eq!(at_root, expect);
            }
        })
        .unwrap();
    }
}

#[test]
fn scatter_alltoall_and_packed_types() {
    #[repr(C)]
    #[derive(Clone, Copy, Debug, PartialEq)]
    struct DI(f64, i32);
    pip_comm::run(4, |world| {
        let c = comm(world);
        let me = c.rank();
        let n = c.size() as usize;
        let send: Vec<i32> = (0..2 * n as i32).map(|i| 100 * me + i).collect();
        let mut got = [0i32; 2];
        let mut a2a = vec![0i32; 2 * n];
        let mut d = if me == 1 {
            [DI(1.5, 3), DI(2.5, 4)]
        } else {
            [DI(0.0, 0); 2]
        };
        let di = Typed::new(2, DOUBLE_INT, "n").unwrap();
        let mut red = [DI(0.0, 0); 2];
        let mine = [DI(me as f64, me), DI(-(me as f64), me)];
        // SAFETY: every buffer outlives the schedules, waited for below.
        let s = unsafe {
            vec![
                iscatter(
                    c.clone(),
                    (send.as_ptr().cast(), ints(2)),
                    Some((got.as_mut_ptr().cast(), ints(2))),
                    2,
                )
                .unwrap(),
                iall(
                    c.clone(),
                    Some((send.as_ptr().cast(), ints(2))),
                    (a2a.as_mut_ptr().cast(), ints(2)),
                    true,
                )
                .unwrap(),
                ibcast(c.clone(), d.as_mut_ptr().cast::<c_void>(), &di, 1).unwrap(),
                ireduce(
                    c.clone(),
                    mine.as_ptr().cast(),
                    red.as_mut_ptr().cast(),
                    &di,
                    crate::handle::MPI_MAXLOC,
                    Some(3),
                )
                .unwrap(),
            ]
        };
        wait_all(&c, s);
        assert_eq!(got, [200 + 2 * me, 200 + 2 * me + 1]);
        let expect: Vec<i32> = (0..n as i32)
            .flat_map(|r| [100 * r + 2 * me, 100 * r + 2 * me + 1])
            .collect();
        assert_eq!(a2a, expect);
        assert_eq!(d, [DI(1.5, 3), DI(2.5, 4)]);
        if me == 3 {
            assert_eq!(red, [DI(3.0, 3), DI(0.0, 0)]);
        }
    })
    .unwrap();
}

#[test]
fn a_schedule_is_ready_while_its_step_can_move() {
    pip_comm::run(1, |world| {
        let c = comm(world);
        let mut s = ibarrier(c).unwrap();
        assert!(s.ready());
        assert!(matches!(s.poll(), Some(Ok(_))));
    })
    .unwrap();
}

/// `inout = in o inout` on integer affine maps `(a, b)`: x -> a x + b (not commutative).
unsafe extern "C" fn compose(input: *mut c_void, inout: *mut c_void, len: *mut i32, _dt: *mut i32) {
    // SAFETY: the reduction passes `*len` pairs of ints in both buffers.
    unsafe {
        let f = std::slice::from_raw_parts(input.cast::<[i32; 2]>(), *len as usize);
        let g = std::slice::from_raw_parts_mut(inout.cast::<[i32; 2]>(), *len as usize);
        for (f, g) in f.iter().zip(g) {
            *g = [f[0] * g[0], f[0] * g[1] + f[1]];
        }
    }
}

#[test]
fn the_general_path_folds_in_rank_order() {
    use super::reduce::{reduce, Red};
    const TWO_INT: i32 = 36;
    pip_comm::run(4, |world| {
        let c = comm(world);
        let me = c.rank();
        let op = crate::op::create(compose, false);
        let t = Typed::new(1, TWO_INT, "n").unwrap();
        let map = |r: i32| [r + 2, r - 1];
        let mine = map(me);
        let serial = |upto: i32| {
            (0..upto).rev().fold(map(upto), |g, r| {
                let f = map(r);
                [f[0] * g[0], f[0] * g[1] + f[1]]
            })
        };
        let mut out = [0i32; 2];
        // SAFETY: both buffers hold one pair of ints.
        unsafe {
            reduce(
                &c,
                Red::All,
                op,
                &t,
                mine.as_ptr().cast(),
                out.as_mut_ptr().cast(),
            )
            .unwrap()
        };
        assert_eq!(out, serial(3));
        // SAFETY: as above.
        unsafe {
            reduce(
                &c,
                Red::Scan,
                op,
                &t,
                mine.as_ptr().cast(),
                out.as_mut_ptr().cast(),
            )
            .unwrap()
        };
        assert_eq!(out, serial(me));
        let mut ex = [-7i32; 2];
        // SAFETY: as above.
        unsafe {
            reduce(
                &c,
                Red::Exscan,
                op,
                &t,
                mine.as_ptr().cast(),
                ex.as_mut_ptr().cast(),
            )
            .unwrap()
        };
        assert_eq!(ex, if me == 0 { [-7, -7] } else { serial(me - 1) });
        // MINLOC on a packed pair type, to a root.
        let di = Typed::new(1, DOUBLE_INT, "n").unwrap();
        #[repr(C)]
        struct DI(f64, i32);
        let v = DI(((me + 1) % 3) as f64, me);
        let mut m = DI(-1.0, -1);
        // SAFETY: both buffers hold one MPI_DOUBLE_INT.
        unsafe {
            let (s, r) = ((&v as *const DI).cast(), (&mut m as *mut DI).cast());
            reduce(&c, Red::Reduce(1), crate::handle::MPI_MINLOC, &di, s, r).unwrap();
        }
        if me == 1 {
            assert_eq!((m.0, m.1), (0.0, 2));
        }
    })
    .unwrap();
}
