//! A PiP task program for pip-comm's tests: `pip-exec -n N libcomm_tasks.so MODE`.
//!
//! Modes:
//! * `exchange`: ring exchanges over every protocol, an any-source gather, barriers, and a
//!   second `world()` call that must fail;
//! * `more`: probe, sendrecv, synchronous send, non-blocking requests, dup/split, and
//!   `send_vec` (the same allocation arrives; refused with a typed error, the `Vec` given
//!   back, when tasks have private libcs);
//! * `bad-world`: task 0 exports a block whose header has another layout version under
//!   pip-comm's name; the other tasks must get `LayoutMismatch` from `world()`.
//!
//! Exit code 0 when every check passed.
use pip_comm::prelude::*;
use pip_comm::{Error, WORLD_EXPORT_NAME};
use std::sync::atomic::{AtomicBool, Ordering};

fn exchange() -> i32 {
    let world = pip_comm::world().expect("world");
    let (me, n) = (world.rank(), world.size());
    assert_eq!(
        pip_core::pipid().unwrap(),
        pip_core::PipId::Task(me as usize)
    );
    assert_eq!(n as usize, pip_core::ntasks().unwrap());
    assert!(matches!(pip_comm::world(), Err(Error::AlreadyInitialized)));
    let right = world.process_at_rank((me + 1) % n);
    let left = world.process_at_rank((me + n - 1) % n);
    for (i, len) in [0usize, 5, 1000, 5000, 300_000, 2_000_000]
        .into_iter()
        .enumerate()
    {
        let data: Vec<u8> = (0..len).map(|k| (k + me as usize * 7 + i) as u8).collect();
        let expect: Vec<u8> = (0..len)
            .map(|k| (k + ((me + n - 1) % n) as usize * 7 + i) as u8)
            .collect();
        let got = if me % 2 == 0 && me != n - 1 {
            right.send(&data).unwrap();
            left.receive_vec::<u8>().unwrap().0
        } else {
            let got = left.receive_vec::<u8>().unwrap().0;
            right.send(&data).unwrap();
            got
        };
        assert!(got == expect, "task {me}: {len} bytes differ");
        world.barrier().unwrap();
    }
    if me == 0 {
        let mut sum = 0;
        for _ in 1..n {
            sum += world.any_process().receive::<i32>().unwrap().0;
        }
        assert_eq!(sum, (1..n).sum::<i32>());
    } else {
        world.process_at_rank(0).send(&me).unwrap();
    }
    world.barrier().unwrap();
    if me == 0 {
        println!("exchange: {n} tasks ok");
    }
    0
}

fn more() -> i32 {
    use pip_comm::request::{scope, wait_all};
    let world = pip_comm::world().expect("world");
    let (me, n) = (world.rank(), world.size());
    let (right, left) = ((me + 1) % n, (me + n - 1) % n);
    // sendrecv of a large message around the ring.
    let out = vec![me as u8; 300_000];
    let mut got = vec![0u8; 300_000];
    let (to, from) = (world.process_at_rank(right), world.process_at_rank(left));
    let s =
        pip_comm::send_receive_into_with_tags(&out[..], &to, 1, &mut got[..], &from, 1).unwrap();
    assert_eq!(s.source, left);
    assert!(got.iter().all(|&b| b == left as u8));
    // Non-blocking both ways, eager and rendezvous.
    let outs = [vec![me as u32; 10], vec![me as u32; 100_000]];
    let mut ins = [vec![0u32; 10], vec![0u32; 100_000]];
    scope(|scope| {
        let (a, b) = ins.split_at_mut(1);
        let reqs = vec![
            world
                .process_at_rank(left)
                .immediate_receive_into_with_tag(scope, &mut a[0][..], 2)
                .unwrap(),
            world
                .process_at_rank(left)
                .immediate_receive_into_with_tag(scope, &mut b[0][..], 3)
                .unwrap(),
            world
                .process_at_rank(right)
                .immediate_send_with_tag(scope, &outs[1][..], 3)
                .unwrap(),
            world
                .process_at_rank(right)
                .immediate_send_with_tag(scope, &outs[0][..], 2)
                .unwrap(),
        ];
        wait_all(reqs).unwrap();
    });
    assert!(ins.iter().flatten().all(|&v| v == left as u32));
    // Probe, then a synchronous send back.
    world
        .process_at_rank(right)
        .send_with_tag(&[7u64; 3], 4)
        .unwrap();
    let p = world.process_at_rank(left).probe_with_tag(4).unwrap();
    assert_eq!((p.source, p.bytes), (left, 24));
    let (v, _) = world.process_at_rank(left).receive_vec::<u64>().unwrap();
    assert_eq!(v, [7; 3]);
    // Communicators: halves by parity, reversed.
    let half = world
        .split_by_color_with_key(Color::with_value(me % 2), -me)
        .unwrap()
        .unwrap();
    let dup = half.duplicate().unwrap();
    let (hr, hn) = (half.rank(), half.size());
    dup.process_at_rank((hr + 1) % hn).send(&me).unwrap();
    half.process_at_rank((hr + 1) % hn)
        .send(&(me + 100))
        .unwrap();
    let (x, _) = half
        .process_at_rank((hr + hn - 1) % hn)
        .receive::<i32>()
        .unwrap();
    let (y, _) = dup
        .process_at_rank((hr + hn - 1) % hn)
        .receive::<i32>()
        .unwrap();
    assert_eq!(x, y + 100);
    dup.barrier().unwrap();
    half.barrier().unwrap();
    // Ownership transfer.
    let shared_libc = pip_core::isolation().unwrap() == pip_core::Isolation::SharedLibc;
    let v = vec![me as u16; 1 << 20];
    let addr = v.as_ptr() as usize;
    match world.process_at_rank(right).send_vec(v) {
        Ok(()) => {
            assert!(shared_libc);
            world.process_at_rank(right).send(&addr).unwrap();
            let (v, _) = world.process_at_rank(left).recv_vec::<u16>().unwrap();
            let (a, _) = world.process_at_rank(left).receive::<usize>().unwrap();
            assert_eq!(v.as_ptr() as usize, a, "task {me}: not the same allocation");
            assert!(v.iter().all(|&x| x == left as u16));
        }
        Err(e) => {
            assert!(!shared_libc, "task {me}: {e}");
            assert!(matches!(e.error, Error::OwnershipTransferUnavailable));
            assert_eq!(e.vec.len(), 1 << 20);
        }
    }
    world.barrier().unwrap();
    if me == 0 {
        println!("more: {n} tasks ok (send_vec moved: {shared_libc})");
    }
    0
}

/// A block that starts like pip-comm's header but claims another layout version.
#[repr(C)]
struct FakeHeader {
    magic: u64,
    version: u32,
    rest: [u32; 16],
}

static FAKE: FakeHeader = FakeHeader {
    magic: u64::from_le_bytes(*b"PIPCOMM\x01"),
    version: 999,
    rest: [0; 16],
};
static DONE: AtomicBool = AtomicBool::new(false);

fn bad_world() -> i32 {
    let pip_core::PipId::Task(me) = pip_core::pipid().unwrap() else {
        return 2;
    };
    if me == 0 {
        pip_core::named_export(
            WORLD_EXPORT_NAME,
            &FAKE as *const FakeHeader as *mut FakeHeader,
        )
        .unwrap();
        // Stay alive until the others have looked (the root's barrier counts everyone).
        let barrier: *mut pip_core::Barrier = pip_core::root_export().unwrap();
        // SAFETY: pip-exec exports a Barrier for all tasks that lives as long as the job.
        unsafe { &*barrier }.wait();
        DONE.store(true, Ordering::SeqCst);
        return 0;
    }
    let e = pip_comm::world().unwrap_err();
    let barrier: *mut pip_core::Barrier = pip_core::root_export().unwrap();
    // SAFETY: as above.
    unsafe { &*barrier }.wait();
    match e {
        Error::LayoutMismatch {
            field: "the layout version",
            ours: 4,
            theirs: 999,
        } => {
            eprintln!("task {me}: {e}");
            0
        }
        other => {
            eprintln!("task {me}: unexpected {other:?}");
            1
        }
    }
}

fn comm_tasks() -> i32 {
    match pip_core::args().get(1).map(String::as_str) {
        Some("exchange") => exchange(),
        Some("more") => more(),
        Some("bad-world") => bad_world(),
        other => {
            eprintln!("comm_tasks: unknown mode {other:?}");
            2
        }
    }
}

pip_core::task_main!(comm_tasks);
