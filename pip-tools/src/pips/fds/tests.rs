use super::*;

fn me() -> Vec<Holder> {
    let pid = std::process::id() as i32;
    vec![Holder {
        pid,
        tid: pid,
        label: "root".into(),
    }]
}

#[test]
fn dup_shares_an_ofd_and_reopen_does_not() {
    let f = std::fs::File::open("/proc/self/exe").unwrap();
    let g = std::fs::File::open("/proc/self/exe").unwrap();
    use std::os::fd::AsRawFd;
    // SAFETY: dup of an fd we own; the copy is closed below.
    let d = unsafe { libc::dup(f.as_raw_fd()) };
    let snap = snapshot(&me(), &mut Tracker::new());
    let t = &snap.tables[0];
    let ofd_of = |fd: i32| t.fds.iter().find(|s| s.fd == fd).unwrap().ofd;
    assert_eq!(ofd_of(f.as_raw_fd()), ofd_of(d));
    assert_ne!(ofd_of(f.as_raw_fd()), ofd_of(g.as_raw_fd()));
    assert_eq!(
        snap.ofds[ofd_of(f.as_raw_fd())].vnode,
        snap.ofds[ofd_of(g.as_raw_fd())].vnode
    );
    assert!(snap.ofds[ofd_of(d)].refs() >= 2);
    // SAFETY: closing our own dup.
    unsafe { libc::close(d) };
}

#[test]
fn ids_are_stable_across_snapshots() {
    let mut tr = Tracker::new();
    let a = snapshot(&me(), &mut tr);
    let b = snapshot(&me(), &mut tr);
    let key = |s: &Snapshot| {
        let mut v: Vec<(usize, String)> = s
            .vnodes
            .iter()
            .map(|v| (v.id, format!("{}:{}", v.dev, v.ino)))
            .collect();
        v.sort();
        v
    };
    // Vnodes present in both keep their ids.
    let (ka, kb) = (key(&a), key(&b));
    for (id, k) in &ka {
        if let Some((id2, _)) = kb.iter().find(|(_, k2)| k2 == k) {
            assert_eq!(id, id2, "{k}");
        }
    }
    assert_eq!(a.tables[0].id, b.tables[0].id);
}

/// Fds opened and closed, and threads started and ended, while snapshots are taken: no
/// panic, and every snapshot is consistent.
#[test]
fn survives_fds_and_threads_vanishing() {
    use std::sync::atomic::{AtomicBool, Ordering as O};
    use std::sync::Arc;
    let stop = Arc::new(AtomicBool::new(false));
    let mut churn = Vec::new();
    for _ in 0..2 {
        let stop = stop.clone();
        churn.push(std::thread::spawn(move || {
            while !stop.load(O::Relaxed) {
                let f = std::fs::File::open("/dev/null").unwrap();
                let mut p = [0; 2];
                // SAFETY: pipe fills the array; both ends are closed below.
                unsafe { libc::pipe(p.as_mut_ptr()) };
                std::thread::spawn(std::thread::yield_now).join().unwrap();
                drop(f);
                // SAFETY: closing the pipe we made.
                unsafe {
                    libc::close(p[0]);
                    libc::close(p[1]);
                }
            }
        }));
    }
    let pid = std::process::id() as i32;
    let mut tracker = Tracker::new();
    for _ in 0..40 {
        let holders: Vec<Holder> = procfs::tids(pid)
            .unwrap()
            .into_iter()
            .map(|tid| Holder {
                pid,
                tid,
                label: format!("thread {tid}"),
            })
            .collect();
        let s = snapshot(&holders, &mut tracker);
        for t in &s.tables {
            for f in &t.fds {
                let o = &s.ofds[f.ofd];
                assert!(o.vnode < s.vnodes.len());
                assert!(o.slots.iter().any(|&(_, fd)| fd == f.fd));
            }
        }
        let _ = s.to_json();
    }
    stop.store(true, O::Relaxed);
    for c in churn {
        c.join().unwrap();
    }
}

#[test]
fn flags_read_back() {
    assert_eq!(flags_text(0o102001), "O_WRONLY|O_APPEND");
    assert_eq!(Access::from_flags(0o2), Access::ReadWrite);
}
