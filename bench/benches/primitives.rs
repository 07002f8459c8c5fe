//! criterion micro-benchmarks of the primitives under the OSU tests:
//!
//! * `eager`: a ping-pong of small messages (up to pip-comm's eager limit) between 2 thread
//!   ranks, one-way time per message;
//! * `rendezvous`: the same above the eager limit, where the receiver copies straight from
//!   the sender's buffer (throughput in bytes per second);
//! * `barrier`: a world barrier of 2 thread ranks;
//! * `spawn_wait`: pip-core spawning a task that returns at once and waiting for it
//!   (shared-libc isolation), per task. It needs the task `examples/libspawn_task.so` in the
//!   same target directory (`cargo build --release --examples -p pip-rs`) and is skipped
//!   without it.
//!
//! `cargo bench -p bench` runs them all; `cargo bench -p bench -- eager` one group. Each
//! sample starts a world of thread ranks and times only the loop inside it (criterion's
//! `iter_custom`), so starting the threads is not counted.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use pip_comm::prelude::*;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// `iters` round trips of `size` bytes between 2 thread ranks; half the time rank 0 measured,
/// per round trip times `iters`, so that criterion reports the one-way time.
fn ping_pong(size: usize, iters: u64) -> Duration {
    let times = pip_comm::run(2, |world| {
        let peer = world.process_at_rank(1 - world.rank());
        let send = vec![1u8; size];
        let mut recv = vec![0u8; size];
        world.barrier().unwrap();
        let start = Instant::now();
        for _ in 0..iters {
            if world.rank() == 0 {
                peer.send(&send[..]).unwrap();
                peer.receive_into(&mut recv[..]).unwrap();
            } else {
                peer.receive_into(&mut recv[..]).unwrap();
                peer.send(&send[..]).unwrap();
            }
        }
        start.elapsed()
    })
    .expect("a world of 2 thread ranks");
    times[0] / 2
}

fn eager(c: &mut Criterion) {
    let mut g = c.benchmark_group("eager");
    for size in [0usize, 8, 64, 512] {
        g.bench_with_input(BenchmarkId::new("send_recv", size), &size, |b, &size| {
            b.iter_custom(|iters| ping_pong(size, iters))
        });
    }
    g.finish();
}

fn rendezvous(c: &mut Criterion) {
    let mut g = c.benchmark_group("rendezvous");
    g.sample_size(20);
    for size in [4usize << 10, 64 << 10, 1 << 20, 4 << 20] {
        g.throughput(Throughput::Bytes(size as u64));
        g.bench_with_input(BenchmarkId::new("copy", size), &size, |b, &size| {
            b.iter_custom(|iters| ping_pong(size, iters))
        });
    }
    g.finish();
}

fn barrier(c: &mut Criterion) {
    c.bench_function("barrier/2_ranks", |b| {
        b.iter_custom(|iters| {
            let times = pip_comm::run(2, |world| {
                world.barrier().unwrap();
                let start = Instant::now();
                for _ in 0..iters {
                    world.barrier().unwrap();
                }
                start.elapsed()
            })
            .expect("a world of 2 thread ranks");
            times[0]
        })
    });
}

/// The task `spawn_wait` spawns, next to this benchmark's own directory.
fn spawn_task() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    // <target>/release/deps/primitives-<hash> -> <target>/release/examples/libspawn_task.so
    let task = exe
        .parent()?
        .parent()?
        .join("examples")
        .join("libspawn_task.so");
    task.exists().then_some(task)
}

fn spawn_wait(c: &mut Criterion) {
    let Some(task) = spawn_task() else {
        eprintln!(
            "spawn_wait skipped: examples/libspawn_task.so is missing \
             (cargo build --release --examples -p pip-rs)"
        );
        return;
    };
    let mut g = c.benchmark_group("spawn_wait");
    // Task images are never unloaded (about 0.35 MiB each): few, short samples.
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    g.bench_function("shared_libc", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            let mut left = iters as usize;
            while left > 0 {
                let batch = left.min(128);
                let mut root = pip_core::Root::builder(batch).init().expect("init");
                let start = Instant::now();
                for _ in 0..batch {
                    root.spawn(pip_core::Spawn::program(&task)).expect("spawn");
                }
                while root.wait_any().is_ok() {}
                total += start.elapsed();
                root.fin().expect("fin");
                left -= batch;
            }
            total
        })
    });
    g.finish();
}

criterion_group!(benches, eager, rendezvous, barrier, spawn_wait);
criterion_main!(benches);
