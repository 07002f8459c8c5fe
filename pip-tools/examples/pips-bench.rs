//! `pips-bench`: the cost of one `pips fds` snapshot of about 1,000 fd slots.
//!
//! This process opens 500 fds (pipes, dups of pipe ends, many opens of one file, `/dev/null`),
//! then starts a thread that unshares its fd table (a copy: 500 more slots, on the same open
//! file descriptions, as a `--private-fds` task has). It then takes snapshots of its own two
//! tables, as `pips fds` would, and prints the median, minimum and maximum time of each kind:
//! a first snapshot (fresh ids) and a live-view refresh (ids re-matched with the previous
//! snapshot's).
//!
//!     cargo run --release -p pip-tools --example pips-bench [-- ROUNDS]
//!
//! It is an example, not a binary, so that `cargo install --path pip-tools` leaves it out.
use clap::Parser;
use pip_tools::pips::fds::{self, Holder, Tracker};
use std::os::fd::IntoRawFd;
use std::sync::mpsc;
use std::time::Duration;

/// Time `pips fds` snapshots of this process's own two fd tables (about 1,000 fd slots).
///
/// Opens 500 fds, starts a thread with a private copy of the fd table, then prints the median,
/// minimum and maximum time of a first snapshot and of a live-view refresh.
#[derive(Parser, Debug)]
#[command(name = "pips-bench", version)]
struct Cli {
    /// Snapshots timed of each kind.
    #[arg(default_value_t = 21, value_parser = clap::value_parser!(u32).range(1..))]
    rounds: u32,
}

fn median(mut v: Vec<Duration>) -> (Duration, Duration, Duration) {
    v.sort();
    (v[v.len() / 2], v[0], v[v.len() - 1])
}

fn raise_fd_limit(n: u64) {
    // SAFETY: getrlimit/setrlimit on a local struct.
    unsafe {
        let mut r: libc::rlimit = std::mem::zeroed();
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut r) == 0 && r.rlim_cur < n {
            r.rlim_cur = n.min(r.rlim_max);
            libc::setrlimit(libc::RLIMIT_NOFILE, &r);
        }
    }
}

fn main() {
    pip_tools::default_sigpipe();
    let rounds = Cli::parse().rounds as usize;
    raise_fd_limit(4096);
    let mut fds = Vec::new();
    for _ in 0..150 {
        let mut p = [0; 2];
        // SAFETY: pipe fills the two-int array.
        assert_eq!(unsafe { libc::pipe(p.as_mut_ptr()) }, 0, "pipe");
        fds.extend(p);
    }
    for i in 0..100 {
        // SAFETY: dup of an fd we own.
        fds.push(unsafe { libc::dup(fds[2 * i + 1]) });
    }
    let exe = std::env::current_exe().unwrap();
    for _ in 0..100 {
        fds.push(std::fs::File::open(&exe).unwrap().into_raw_fd());
    }
    let base = std::fs::read_dir("/proc/self/fd").unwrap().count();
    while fds.len() + base < 500 {
        fds.push(std::fs::File::open("/dev/null").unwrap().into_raw_fd());
    }
    // A thread with a private copy of the table.
    let (tid_tx, tid_rx) = mpsc::channel();
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let t = std::thread::spawn(move || {
        // SAFETY: unshare affects only this thread's fd table.
        assert_eq!(unsafe { libc::unshare(libc::CLONE_FILES) }, 0, "unshare");
        // SAFETY: gettid has no preconditions.
        tid_tx.send(unsafe { libc::gettid() }).unwrap();
        let _ = done_rx.recv();
    });
    let tid = tid_rx.recv().unwrap();
    let pid = std::process::id() as i32;
    let holders = vec![
        Holder {
            pid,
            tid: pid,
            label: "main".into(),
        },
        Holder {
            pid,
            tid,
            label: "private".into(),
        },
    ];
    let first = fds::snapshot(&holders, &mut Tracker::new());
    println!(
        "# pips fds snapshot: {} fd tables, {} fd slots, {} open file descriptions, {} vnodes",
        first.tables.len(),
        first.slots,
        first.ofds.len(),
        first.vnodes.len()
    );
    let fresh: Vec<Duration> = (0..rounds)
        .map(|_| fds::snapshot(&holders, &mut Tracker::new()).elapsed)
        .collect();
    let mut tracker = Tracker::new();
    fds::snapshot(&holders, &mut tracker);
    let live: Vec<Duration> = (0..rounds)
        .map(|_| fds::snapshot(&holders, &mut tracker).elapsed)
        .collect();
    for (name, v) in [("first snapshot", fresh), ("live refresh", live)] {
        let (med, min, max) = median(v);
        println!(
            "{name:15} median {:7.2} ms  min {:7.2} ms  max {:7.2} ms  ({rounds} rounds)",
            med.as_secs_f64() * 1e3,
            min.as_secs_f64() * 1e3,
            max.as_secs_f64() * 1e3
        );
    }
    drop(done_tx);
    t.join().unwrap();
}
