//! The kernel's view of a blocked thread that published nothing: the futex it sleeps on (and
//! the mutex owner glibc wrote there), or the pipe it reads or writes.

use super::Node;
use crate::pips::fds::{self, Holder, Kind};
use crate::pips::procfs;
use std::collections::BTreeSet;

/// `futex(2)` and the operations that wait.
const SYS_FUTEX: i64 = libc::SYS_futex;
const FUTEX_CMD_MASK: u64 = 0x7f;
const FUTEX_WAIT: u64 = 0;
const FUTEX_LOCK_PI: u64 = 6;
const FUTEX_WAIT_BITSET: u64 = 9;
const FUTEX_LOCK_PI2: u64 = 13;

/// The edges of the job's blocked threads that the wait board says nothing about.
pub(super) fn kernel_edges(nodes: &mut [Node], holders: &[Holder]) {
    let all: Vec<i32> = nodes.iter().map(|n| n.tid).collect();
    // Then the kernel's view of every other blocked thread.
    let snapshot = std::cell::OnceCell::new();
    let job_tids: BTreeSet<i32> = all.iter().copied().collect();
    for n in nodes.iter_mut() {
        if n.source == "board" || n.state == 'R' {
            continue;
        }
        let (pid, tid) = (n.pid, n.tid);
        let Some((nr, args)) = procfs::syscall_args(pid, tid) else {
            continue;
        };
        if nr == SYS_FUTEX {
            let cmd = args[1] & FUTEX_CMD_MASK;
            if ![FUTEX_WAIT, FUTEX_WAIT_BITSET, FUTEX_LOCK_PI, FUTEX_LOCK_PI2].contains(&cmd) {
                continue;
            }
            let addr = args[0];
            let owner = if cmd == FUTEX_LOCK_PI || cmd == FUTEX_LOCK_PI2 {
                let mut w = [0u8; 4];
                procfs::read_mem(pid, addr, &mut w)
                    .ok()
                    .map(|_| (u32::from_ne_bytes(w) & 0x3fff_ffff) as i32)
            } else {
                // glibc's pthread_mutex_t: int __lock; unsigned __count; int __owner.
                let mut w = [0u8; 4];
                procfs::read_mem(pid, addr + 8, &mut w)
                    .ok()
                    .map(|_| i32::from_ne_bytes(w))
            };
            n.source = "futex";
            match owner.filter(|o| *o != tid && job_tids.contains(o)) {
                Some(o) => {
                    n.what = format!("mutex {addr:#x} held by {{{o}}}");
                    n.targets = vec![o];
                    n.needed = 1;
                }
                None => n.what = format!("futex {addr:#x}"),
            }
        } else if [
            libc::SYS_read,
            libc::SYS_readv,
            libc::SYS_write,
            libc::SYS_writev,
        ]
        .contains(&nr)
        {
            let fd = args[0] as i32;
            let reading = nr == libc::SYS_read || nr == libc::SYS_readv;
            let snap = snapshot.get_or_init(|| {
                let mut tracker = fds::Tracker::new();
                fds::snapshot(holders, &mut tracker)
            });
            if let Some((pipe, peers)) = pipe_peers(snap, tid, fd, reading) {
                n.source = "pipe";
                n.what = format!(
                    "{} fd {fd} ({pipe}): needs a {} end, held by {}",
                    if reading { "read" } else { "write" },
                    if reading { "write" } else { "read" },
                    if peers.is_empty() {
                        String::from("nobody")
                    } else {
                        peers
                            .iter()
                            .map(|t| format!("{{{t}}}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    }
                );
                n.needed = 1;
                n.targets = peers;
            }
        }
    }
}

/// The pipe behind `fd` of `tid`'s table, and the threads holding its other end.
fn pipe_peers(
    snap: &fds::Snapshot,
    tid: i32,
    fd: i32,
    reading: bool,
) -> Option<(String, Vec<i32>)> {
    let table = snap
        .tables
        .iter()
        .position(|t| t.holders.iter().any(|h| h.tid == tid))?;
    let slot = snap.tables[table].fds.iter().find(|s| s.fd == fd)?;
    let vnode = &snap.vnodes[snap.ofds[slot.ofd].vnode];
    if vnode.kind != Kind::Pipe {
        return None;
    }
    let mut peers = BTreeSet::new();
    for &o in &vnode.ofds {
        let ofd = &snap.ofds[o];
        let other_end = if reading {
            ofd.access.writes()
        } else {
            ofd.access.reads()
        };
        if !other_end {
            continue;
        }
        for &(t, _) in &ofd.slots {
            peers.extend(snap.tables[t].holders.iter().map(|h| h.tid));
        }
    }
    Some((vnode.name.clone(), peers.into_iter().collect()))
}
