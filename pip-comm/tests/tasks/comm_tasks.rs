//! A PiP task program for pip-comm's tests: `pip-exec -n N libcomm_tasks.so MODE`.
//!
//! Modes:
//! * `exchange`: ring exchanges over every protocol, an any-source gather, barriers, and a
//!   second `world()` call that must fail;
//! * `bad-world`: task 0 exports a block whose header has another layout version under
//!   pip-comm's name; the other tasks must get `LayoutMismatch` from `world()`.
//!
//! Exit code 0 when every check passed.
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
        world.barrier();
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
    world.barrier();
    if me == 0 {
        println!("exchange: {n} tasks ok");
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
            ours: 2,
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
        Some("bad-world") => bad_world(),
        other => {
            eprintln!("comm_tasks: unknown mode {other:?}");
            2
        }
    }
}

pip_core::task_main!(comm_tasks);
