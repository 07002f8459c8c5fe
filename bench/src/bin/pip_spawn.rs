//! pip-core's costs: spawn+wait per task (against pthread_create+join), RSS per task, and a
//! barrier round between the root and one task.
//!
//! ```text
//! cargo build --release --examples -p pip-rs && cargo build --release -p bench
//! target/release/pip_spawn [--tasks 256] [--rounds 5] [--isolation shared-libc|namespace] [--mode thread|process]
//! ```
//! Prints medians over the rounds (this machine is noisy) and every round's value.
use pip_core::{Barrier, Isolation, Mode, Root, Spawn};
use std::path::PathBuf;
use std::time::Instant;

struct Opts {
    tasks: usize,
    rounds: usize,
    isolation: Isolation,
    mode: Mode,
    task: PathBuf,
    barrier_rounds: usize,
}

fn usage() -> ! {
    eprintln!("usage: pip_spawn [--tasks N] [--rounds R] [--isolation shared-libc|namespace] [--mode thread|process] [--task PATH] [--barrier-rounds B]");
    std::process::exit(2)
}

fn parse() -> Opts {
    let exe = std::env::current_exe().expect("current_exe");
    let dir = exe.parent().expect("target dir").to_path_buf();
    let mut o = Opts {
        tasks: 256,
        rounds: 5,
        isolation: Isolation::SharedLibc,
        mode: Mode::Thread,
        task: dir.join("examples/libspawn_task.so"),
        barrier_rounds: 100_000,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = || args.next().unwrap_or_else(|| usage());
        match a.as_str() {
            "--tasks" => o.tasks = val().parse().unwrap_or_else(|_| usage()),
            "--rounds" => o.rounds = val().parse().unwrap_or_else(|_| usage()),
            "--isolation" => {
                o.isolation = val().parse().unwrap_or_else(|e| {
                    eprintln!("{e}");
                    usage()
                })
            }
            "--mode" => {
                o.mode = val().parse().unwrap_or_else(|e| {
                    eprintln!("{e}");
                    usage()
                })
            }
            "--task" => o.task = PathBuf::from(val()),
            "--barrier-rounds" => o.barrier_rounds = val().parse().unwrap_or_else(|_| usage()),
            _ => usage(),
        }
    }
    if !o.task.exists() {
        eprintln!(
            "{} is missing: build it with `cargo build --release --examples -p pip-rs`",
            o.task.display()
        );
        std::process::exit(2);
    }
    o
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn rss_kib() -> f64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0.0)
}

extern "C" fn nothing(_: *mut libc::c_void) -> *mut libc::c_void {
    std::ptr::null_mut()
}

/// pthread_create + pthread_join of a thread that does nothing, in microseconds.
fn pthread_cost(n: usize) -> f64 {
    let t0 = Instant::now();
    for _ in 0..n {
        let mut t: libc::pthread_t = 0;
        // SAFETY: default attributes; the thread is joined right away.
        unsafe {
            libc::pthread_create(&mut t, std::ptr::null(), nothing, std::ptr::null_mut());
            libc::pthread_join(t, std::ptr::null_mut());
        }
    }
    t0.elapsed().as_secs_f64() * 1e6 / n as f64
}

fn fmt(v: &[f64]) -> String {
    v.iter()
        .map(|x| format!("{x:.1}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn main() {
    let o = parse();
    let tasks = if o.isolation == Isolation::Namespace {
        // Namespaces are never freed: one round of at most 11 in a process.
        o.tasks.min(11)
    } else {
        o.tasks
    };
    let rounds = if o.isolation == Isolation::Namespace {
        1
    } else {
        o.rounds
    };
    println!(
        "# pip-core spawn benchmark: {} isolation, {tasks} tasks x {rounds} rounds, task {}",
        o.isolation.as_str(),
        o.task.display()
    );

    spawn_rounds(&o, tasks, rounds);
    if o.isolation == Isolation::SharedLibc && o.barrier_rounds > 0 {
        barrier_rounds(&o);
    }
}

/// Spawns and joins `tasks` tasks, `rounds` times, and prints what one spawn costs next to a
/// pthread_create and join.
fn spawn_rounds(o: &Opts, tasks: usize, rounds: usize) {
    let pth: Vec<f64> = (0..rounds).map(|_| pthread_cost(tasks.max(100))).collect();
    let mut spawn_us = Vec::new();
    let mut wait_us = Vec::new();
    let mut total_ms = Vec::new();
    let mut rss = Vec::new();
    for _ in 0..rounds {
        let mut root = Root::builder(tasks)
            .isolation(o.isolation)
            .init()
            .expect("init");
        let rss0 = rss_kib();
        let t0 = Instant::now();
        for _ in 0..tasks {
            root.spawn(Spawn::program(&o.task)).expect("spawn");
        }
        let t1 = Instant::now();
        while root.wait_any().is_ok() {}
        let t2 = Instant::now();
        rss.push((rss_kib() - rss0) / tasks as f64);
        root.fin().expect("fin");
        spawn_us.push((t1 - t0).as_secs_f64() * 1e6 / tasks as f64);
        wait_us.push((t2 - t0).as_secs_f64() * 1e6 / tasks as f64);
        total_ms.push((t2 - t0).as_secs_f64() * 1e3);
    }
    println!("{:<40}{:>12}   rounds", "# measure", "median");
    println!(
        "{:<40}{:>12.1}   {}",
        "pthread_create+join (us/thread)",
        median(&mut pth.clone()),
        fmt(&pth)
    );
    println!(
        "{:<40}{:>12.1}   {}",
        "spawn (us/task)",
        median(&mut spawn_us.clone()),
        fmt(&spawn_us)
    );
    println!(
        "{:<40}{:>12.1}   {}",
        "spawn+wait (us/task)",
        median(&mut wait_us.clone()),
        fmt(&wait_us)
    );
    println!(
        "{:<40}{:>12.1}   {}",
        format!("{tasks} tasks spawned+joined (ms)"),
        median(&mut total_ms.clone()),
        fmt(&total_ms)
    );
    println!(
        "{:<40}{:>12.1}   {}",
        "RSS added per task (KiB)",
        median(&mut rss.clone()),
        fmt(&rss)
    );
}

/// A barrier round between the root thread and one task (2 parties, 2 cores).
fn barrier_rounds(o: &Opts) {
    let mut per_round = Vec::new();
    for _ in 0..o.rounds {
        let b: &'static Barrier = Box::leak(Box::new(Barrier::new(2)));
        let mut root = Root::builder(1)
            .export(b as *const Barrier as *mut Barrier)
            .init()
            .expect("init");
        root.spawn(
            Spawn::program(&o.task).args(["barrier".to_string(), o.barrier_rounds.to_string()]),
        )
        .expect("spawn");
        b.wait(); // both sides warmed up
        let t0 = Instant::now();
        for _ in 1..o.barrier_rounds {
            b.wait();
        }
        per_round.push(t0.elapsed().as_secs_f64() * 1e6 / (o.barrier_rounds - 1) as f64);
        root.wait(0).expect("wait");
        root.fin().expect("fin");
    }
    println!(
        "{:<40}{:>12.3}   {}",
        "barrier round, root + 1 task (us)",
        median(&mut per_round.clone()),
        per_round
            .iter()
            .map(|x| format!("{x:.3}"))
            .collect::<Vec<_>>()
            .join(" ")
    );
}
