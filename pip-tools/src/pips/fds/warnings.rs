//! What a snapshot warns about: pipes nobody can finish, and fds that private tables hold
//! only because they inherited the root's.

use super::{is_task_image, Kind, Snapshot, Warning};
use crate::pips::procfs;

/// The fd of `tid`'s current `read`, if it is blocked reading a pipe.
fn blocked_pipe_read(pid: i32, tid: i32) -> Option<Option<i32>> {
    if !procfs::wchan(pid, tid).contains("pipe_read") {
        return None;
    }
    Some(match procfs::syscall(pid, tid) {
        Some((0, fd)) => Some(fd as i32), // read(2)
        _ => None,
    })
}

/// The pipe warnings of a snapshot (see the module documentation).
pub fn pipe_warnings(snap: &Snapshot) -> Vec<Warning> {
    let mut out = Vec::new();
    for (vi, v) in snap.vnodes.iter().enumerate() {
        if v.kind != Kind::Pipe {
            continue;
        }
        let mut readers: Vec<(usize, i32)> = Vec::new();
        let mut writers: Vec<(usize, i32)> = Vec::new();
        for &oi in &v.ofds {
            let o = &snap.ofds[oi];
            if o.access.reads() {
                readers.extend(&o.slots);
            }
            if o.access.writes() {
                writers.extend(&o.slots);
            }
        }
        if readers.is_empty() || writers.is_empty() {
            continue;
        }
        let slot_text = |&(t, fd): &(usize, i32)| {
            let tb = &snap.tables[t];
            format!("fd {fd} of {}", tb.label())
        };
        let mut reader_tables: Vec<usize> = readers.iter().map(|r| r.0).collect();
        reader_tables.dedup();
        let mut writer_tables: Vec<usize> = writers.iter().map(|w| w.0).collect();
        writer_tables.sort_unstable();
        writer_tables.dedup();
        // Who is blocked reading this pipe now.
        let mut blocked = Vec::new();
        for &t in &reader_tables {
            for h in &snap.tables[t].holders {
                if let Some(fd) = blocked_pipe_read(h.pid, h.tid) {
                    let on_this = match fd {
                        Some(fd) => readers.contains(&(t, fd)),
                        None => true,
                    };
                    if on_this {
                        blocked.push(format!(
                            "{} (tid {}) is blocked in read(){}",
                            h.label,
                            h.tid,
                            fd.map(|f| format!(" on fd {f}")).unwrap_or_default()
                        ));
                    }
                }
            }
        }
        let now = if blocked.is_empty() {
            String::new()
        } else {
            format!("; now {}", blocked.join(", "))
        };
        let mut warned_self = false;
        for &rt in &reader_tables {
            let own: Vec<&(usize, i32)> = writers.iter().filter(|w| w.0 == rt).collect();
            if own.is_empty() {
                continue;
            }
            warned_self = true;
            let tb = &snap.tables[rt];
            out.push(Warning {
                kind: "pipe-self-writer",
                vnode: vi,
                text: format!(
                    "{} {}: {} reads it but also holds a write end ({}): it can never see end-of-file while it keeps {}{now}",
                    v.name_id(),
                    v.name,
                    tb.label(),
                    own.iter().map(|w| format!("fd {}", w.1)).collect::<Vec<_>>().join(", "),
                    if own.len() == 1 { "it" } else { "them" },
                ),
            });
        }
        if writer_tables.len() > 1 && !warned_self {
            out.push(Warning {
                kind: "pipe-eof",
                vnode: vi,
                text: format!(
                    "{} {}: readers ({}) see end-of-file only when all {} write ends are closed; they are open in {}{now}",
                    v.name_id(),
                    v.name,
                    readers.iter().map(slot_text).collect::<Vec<_>>().join(", "),
                    writers.len(),
                    writers.iter().map(slot_text).collect::<Vec<_>>().join(", "),
                ),
            });
        }
    }
    out
}

/// Files pip-core itself keeps open in the root (task images, the wait board): inherited by
/// every private table, never a leak of the program's.
fn is_pip_core_file(name: &str) -> bool {
    is_task_image(name)
        || name
            .strip_prefix("/memfd:")
            .is_some_and(|n| n.starts_with(pip_core::waits::BOARD_NAME))
}

/// Possible leaks: fds that other tables hold only because they inherited the root's (see the
/// module documentation).
pub fn inherited_warnings(snap: &Snapshot) -> Vec<Warning> {
    // fd -> the tables (other than the root's) that inherited it.
    let mut by_fd: std::collections::BTreeMap<i32, (usize, Vec<usize>)> = Default::default();
    for (t, table) in snap.tables.iter().enumerate() {
        for slot in table.fds.iter().filter(|s| s.also_in_root && s.fd > 2) {
            let vnode = snap.ofds[slot.ofd].vnode;
            if is_pip_core_file(&snap.vnodes[vnode].name) {
                continue;
            }
            by_fd
                .entry(slot.fd)
                .or_insert((slot.ofd, Vec::new()))
                .1
                .push(t);
        }
    }
    by_fd
        .into_iter()
        .map(|(fd, (ofd, tables))| {
            let o = &snap.ofds[ofd];
            let v = &snap.vnodes[o.vnode];
            let holders: Vec<String> = tables
                .iter()
                .map(|&t| snap.tables[t].label())
                .collect();
            Warning {
                kind: "fd-inherited",
                vnode: o.vnode,
                text: format!(
                    "fd {fd} ({} {}, {}) was inherited from the root by {}: if they do not use it, it is leaked and keeps the file open; close it there, or open it close-on-exec",
                    v.kind.as_str(),
                    v.name,
                    o.access.as_str(),
                    holders.join(", ")
                ),
            }
        })
        .collect()
}
