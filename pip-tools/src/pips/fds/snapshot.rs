//! Taking a snapshot: reading every fd table of a job once, grouping fds into open file
//! descriptions with `kcmp`, and keeping ids stable between snapshots.

use super::{
    inherited_warnings, pipe_warnings, Access, FdSlot, FdTable, Holder, Kind, Ofd, OfdReps,
    Snapshot, Tracker, Vnode, PALETTE,
};
use crate::pips::procfs;
use std::cmp::Ordering;
use std::collections::HashMap;
use std::time::Instant;

/// One fd as read from procfs.
#[derive(Debug, Clone)]
struct RawFd {
    table: usize,
    tid: i32,
    fd: i32,
    link: String,
    pos: u64,
    flags: u32,
    mode: u32,
    dev: u64,
    rdev: u64,
    ino: u64,
}

/// Reads `fdinfo` (pos, flags) and stats the fd; `None` when the fd has gone.
fn read_fd(pid: i32, tid: i32, fd: i32) -> std::io::Result<(String, u64, u32, libc::stat)> {
    let dir = procfs::task_dir(pid, tid);
    let link = std::fs::read_link(dir.join(format!("fd/{fd}")))?
        .to_string_lossy()
        .into_owned();
    let info = std::fs::read_to_string(dir.join(format!("fdinfo/{fd}")))?;
    let mut pos = 0;
    let mut flags = 0;
    for l in info.lines() {
        if let Some(v) = l.strip_prefix("pos:") {
            pos = v.trim().parse().unwrap_or(0);
        } else if let Some(v) = l.strip_prefix("flags:") {
            flags = u32::from_str_radix(v.trim(), 8).unwrap_or(0);
        }
    }
    let path = std::ffi::CString::new(format!("/proc/{pid}/task/{tid}/fd/{fd}"))
        .map_err(|_| std::io::Error::from_raw_os_error(libc::EINVAL))?;
    // SAFETY: a zeroed stat is valid output space; the path is NUL-terminated.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    if unsafe { libc::stat(path.as_ptr(), &mut st) } != 0 {
        let e = std::io::Error::last_os_error();
        if !procfs::is_denied(&e) && !procfs::is_gone(&e) {
            // Some links (sockets of other namespaces, ...) cannot be followed: keep the fd.
            st.st_mode = 0;
        } else {
            return Err(e);
        }
    }
    Ok((link, pos, flags, st))
}

const O_CLOEXEC_FDINFO: u32 = 0o2000000;

/// Groups holders into fd tables with `kcmp(KCMP_FILES)`; holders that cannot be compared
/// are reported in `errors`.
fn group_tables(holders: &[Holder], errors: &mut Vec<String>) -> Vec<Vec<Holder>> {
    let mut groups: Vec<Vec<Holder>> = Vec::new();
    let mut denied_pids = Vec::new();
    'next: for h in holders {
        for g in groups.iter_mut() {
            match procfs::kcmp(g[0].tid, h.tid, procfs::KCMP_FILES, 0, 0) {
                Ok(Ordering::Equal) => {
                    g.push(h.clone());
                    continue 'next;
                }
                Ok(_) => {}
                Err(e) if procfs::is_gone(&e) => continue 'next,
                Err(e) if procfs::is_denied(&e) => {
                    if !denied_pids.contains(&h.pid) {
                        denied_pids.push(h.pid);
                        errors.push(format!(
                            "{} (tid {}): cannot compare fd tables: {}",
                            h.label,
                            h.tid,
                            procfs::why_denied(h.pid)
                        ));
                    }
                    continue 'next;
                }
                Err(e) => {
                    errors.push(format!("{} (tid {}): kcmp: {e}", h.label, h.tid));
                    continue 'next;
                }
            }
        }
        // A first holder is checked by reading its table below.
        groups.push(vec![h.clone()]);
    }
    groups
}

/// Takes a snapshot of what `holders` hold. Ids are kept stable through `tracker`.
pub fn snapshot(holders: &[Holder], tracker: &mut Tracker) -> Snapshot {
    let t0 = Instant::now();
    let mut snap = Snapshot::default();
    let groups = group_tables(holders, &mut snap.errors);
    let (raw, tables, mut vanished) = read_tables(groups, &mut snap.errors);
    snap.slots = raw.len();
    let ofd_groups = group_ofds(&raw, &mut vanished);
    if vanished > 0 {
        snap.errors.push(format!(
            "{vanished} fd(s) closed or changed while the snapshot was taken (skipped)"
        ));
    }
    let table_ids = stable_table_ids(&tables, tracker);
    add_ofds_and_vnodes(&mut snap, &raw, &ofd_groups, tracker);
    add_tables(&mut snap, &raw, tables, &table_ids);
    // Slots refer to tables by index; keep the vector in index order (ids may differ).
    snap.warnings = pipe_warnings(&snap);
    snap.warnings.extend(inherited_warnings(&snap));
    snap.elapsed = t0.elapsed();
    snap
}

/// Reads each table once, through the first holder that can be read. Returns every fd read,
/// the tables' holders (the one read through first), and how many fds vanished meanwhile.
fn read_tables(
    groups: Vec<Vec<Holder>>,
    errors: &mut Vec<String>,
) -> (Vec<RawFd>, Vec<Vec<Holder>>, usize) {
    let mut raw: Vec<RawFd> = Vec::new();
    let mut tables: Vec<Vec<Holder>> = Vec::new();
    let mut vanished = 0usize;
    for g in groups {
        let mut read_ok = None;
        for h in &g {
            let dir = procfs::task_dir(h.pid, h.tid).join("fd");
            match std::fs::read_dir(&dir) {
                Ok(d) => {
                    let mut fds: Vec<i32> = d
                        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
                        .collect();
                    fds.sort_unstable();
                    read_ok = Some((h.clone(), fds));
                    break;
                }
                Err(e) if procfs::is_gone(&e) => continue,
                Err(e) if procfs::is_denied(&e) => {
                    errors.push(format!(
                        "{} (tid {}): cannot read its fd table: {}",
                        h.label,
                        h.tid,
                        procfs::why_denied(h.pid)
                    ));
                    break;
                }
                Err(e) => {
                    errors.push(format!(
                        "{} (tid {}): {}: {e}",
                        h.label,
                        h.tid,
                        dir.display()
                    ));
                    break;
                }
            }
        }
        let Some((rep, fds)) = read_ok else {
            continue;
        };
        let ti = tables.len();
        for fd in fds {
            match read_fd(rep.pid, rep.tid, fd) {
                Ok((link, pos, flags, st)) => raw.push(RawFd {
                    table: ti,
                    tid: rep.tid,
                    fd,
                    link,
                    pos,
                    flags,
                    mode: st.st_mode,
                    dev: st.st_dev,
                    rdev: st.st_rdev,
                    ino: st.st_ino,
                }),
                Err(_) => vanished += 1,
            }
        }
        // Put the representative first: it is the one the table was read through.
        let mut g = g;
        if let Some(i) = g.iter().position(|h| h.tid == rep.tid) {
            g.swap(0, i);
        }
        tables.push(g);
    }
    (raw, tables, vanished)
}

/// Groups the fds into open file descriptions: bucket by inode, then sort each bucket into
/// runs with kcmp. Each OFD is the raw indices of its slots, ordered by (table, fd), and the
/// OFDs by their first slot, so that the pictures read left to right.
fn group_ofds(raw: &[RawFd], vanished: &mut usize) -> Vec<Vec<usize>> {
    let mut buckets: HashMap<(u64, u64), Vec<usize>> = HashMap::new();
    for (i, r) in raw.iter().enumerate() {
        buckets.entry((r.dev, r.ino)).or_default().push(i);
    }
    // Each OFD: the raw indices of its slots.
    let mut ofd_groups: Vec<Vec<usize>> = Vec::new();
    for (_, members) in buckets {
        if members.len() == 1 {
            ofd_groups.push(members);
            continue;
        }
        // Sorted representatives (by kcmp order) with their groups.
        let mut sorted: Vec<Vec<usize>> = Vec::new();
        'slot: for m in members {
            let me = &raw[m];
            let (mut lo, mut hi) = (0usize, sorted.len());
            while lo < hi {
                let mid = (lo + hi) / 2;
                let rep = &raw[sorted[mid][0]];
                match procfs::kcmp(
                    me.tid,
                    rep.tid,
                    procfs::KCMP_FILE,
                    me.fd as u64,
                    rep.fd as u64,
                ) {
                    Ok(Ordering::Equal) => {
                        sorted[mid].push(m);
                        continue 'slot;
                    }
                    Ok(Ordering::Less) => hi = mid,
                    Ok(Ordering::Greater) => lo = mid + 1,
                    Err(_) if still_open(me) => {
                        // The representative closed meanwhile (not this fd): drop it, let the
                        // next slot of its group stand for the group, and search again.
                        *vanished += 1;
                        sorted[mid].remove(0);
                        if sorted[mid].is_empty() {
                            sorted.remove(mid);
                        }
                        (lo, hi) = (0, sorted.len());
                    }
                    Err(_) => {
                        *vanished += 1; // This fd closed meanwhile.
                        continue 'slot;
                    }
                }
            }
            sorted.insert(lo, vec![m]);
        }
        ofd_groups.extend(sorted);
    }
    for g in ofd_groups.iter_mut() {
        g.sort_by_key(|&i| (raw[i].table, raw[i].fd));
    }
    ofd_groups.sort_by_key(|g| (raw[g[0]].table, raw[g[0]].fd));

    ofd_groups
}

/// True if fd slot `r` is still open (kcmp compares it with itself).
fn still_open(r: &RawFd) -> bool {
    matches!(
        procfs::kcmp(r.tid, r.tid, procfs::KCMP_FILE, r.fd as u64, r.fd as u64),
        Ok(Ordering::Equal)
    )
}

/// The tables' stable ids: a previous table that kcmp says is the same keeps its id.
fn stable_table_ids(tables: &[Vec<Holder>], tracker: &mut Tracker) -> Vec<usize> {
    let mut used_tables = Vec::new();
    let mut table_ids = Vec::new();
    for g in tables {
        let id = tracker
            .tables
            .iter()
            .find(|(id, tid)| {
                !used_tables.contains(id)
                    && matches!(
                        procfs::kcmp(*tid, g[0].tid, procfs::KCMP_FILES, 0, 0),
                        Ok(Ordering::Equal)
                    )
            })
            .map(|(id, _)| *id)
            .unwrap_or_else(|| {
                tracker.next_table += 1;
                tracker.next_table - 1
            });
        used_tables.push(id);
        table_ids.push(id);
    }
    tracker.tables = table_ids
        .iter()
        .zip(tables)
        .map(|(id, g)| (*id, g[0].tid))
        .collect();

    table_ids
}

/// The OFDs and their vnodes, with ids kept stable through `tracker`.
fn add_ofds_and_vnodes(
    snap: &mut Snapshot,
    raw: &[RawFd],
    ofd_groups: &[Vec<usize>],
    tracker: &mut Tracker,
) {
    let mut vnode_index: HashMap<(u64, u64, i64), usize> = HashMap::new();
    let mut used_ofds = std::collections::HashSet::new();
    let mut new_ofd_reps = OfdReps::new();
    for g in ofd_groups {
        let r = &raw[g[0]];
        let kind = Kind::classify(r.mode, r.rdev, &r.link);
        let ofd_index = snap.ofds.len();
        // OFD id: a previous representative on the same inode that kcmp says is this OFD.
        let id = tracker
            .ofds
            .get(&(r.dev, r.ino))
            .and_then(|prev| {
                prev.iter().find(|(id, tid, fd)| {
                    !used_ofds.contains(id)
                        && matches!(
                            procfs::kcmp(*tid, r.tid, procfs::KCMP_FILE, *fd as u64, r.fd as u64),
                            Ok(Ordering::Equal)
                        )
                })
            })
            .map(|t| t.0)
            .unwrap_or_else(|| {
                tracker.next_ofd += 1;
                tracker.next_ofd - 1
            });
        used_ofds.insert(id);
        new_ofd_reps
            .entry((r.dev, r.ino))
            .or_default()
            .push((id, r.tid, r.fd));
        // Anonymous inodes are one vnode per OFD (they all share one inode).
        let vkey = if kind == Kind::Anon {
            (r.dev, r.ino, id as i64)
        } else {
            (r.dev, r.ino, -1)
        };
        let vi = match vnode_index.get(&vkey) {
            Some(&vi) => vi,
            None => {
                let vid = *tracker.vnodes.entry(vkey).or_insert_with(|| {
                    tracker.next_vnode += 1;
                    tracker.next_vnode - 1
                });
                snap.vnodes.push(Vnode {
                    id: vid,
                    kind,
                    name: r.link.clone(),
                    dev: r.dev,
                    ino: r.ino,
                    ofds: Vec::new(),
                });
                vnode_index.insert(vkey, snap.vnodes.len() - 1);
                snap.vnodes.len() - 1
            }
        };
        snap.vnodes[vi].ofds.push(ofd_index);
        snap.ofds.push(Ofd {
            id,
            access: Access::from_flags(r.flags),
            pos: r.pos,
            flags: r.flags & !O_CLOEXEC_FDINFO,
            vnode: vi,
            slots: g.iter().map(|&i| (raw[i].table, raw[i].fd)).collect(),
        });
    }
    tracker.ofds = new_ofd_reps;
    let live: std::collections::HashSet<_> = vnode_index.keys().copied().collect();
    tracker.vnodes.retain(|k, _| live.contains(k));
    tracker.generation += 1;
}

/// The fd tables with their slots (an fd that the root's table holds too is marked).
fn add_tables(snap: &mut Snapshot, raw: &[RawFd], tables: Vec<Vec<Holder>>, table_ids: &[usize]) {
    let mut slot_ofd: HashMap<(usize, i32), usize> = HashMap::new();
    for (oi, o) in snap.ofds.iter().enumerate() {
        for &(t, fd) in &o.slots {
            slot_ofd.insert((t, fd), oi);
        }
    }
    let root_table = tables
        .iter()
        .position(|g| g.iter().any(|h| h.label == "root"));
    for (ti, g) in tables.into_iter().enumerate() {
        let fds = raw
            .iter()
            .filter(|r| r.table == ti)
            .filter_map(|r| {
                let ofd = *slot_ofd.get(&(ti, r.fd))?;
                let also_in_root = root_table
                    .is_some_and(|rt| rt != ti && slot_ofd.get(&(rt, r.fd)) == Some(&ofd));
                Some(FdSlot {
                    fd: r.fd,
                    ofd,
                    cloexec: r.flags & O_CLOEXEC_FDINFO != 0,
                    also_in_root,
                })
            })
            .collect();
        snap.tables.push(FdTable {
            id: table_ids[ti],
            color: PALETTE[table_ids[ti] % PALETTE.len()],
            holders: g,
            fds,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A slot of this process's table for `fd`, on the inode `ino`.
    fn slot(fd: i32, ino: u64) -> RawFd {
        let pid = std::process::id() as i32;
        RawFd {
            table: 0,
            tid: pid,
            fd,
            link: String::new(),
            pos: 0,
            flags: 0,
            mode: 0,
            dev: 1,
            rdev: 0,
            ino,
        }
    }

    #[test]
    fn a_closed_representative_does_not_hide_a_live_slot() {
        use std::os::fd::AsRawFd;
        let f = std::fs::File::open("/proc/self/exe").unwrap();
        // Slot 0 stands for an fd closed meanwhile (no table has such a number); slot 1 is
        // live and shares its inode, so it is compared with slot 0 first.
        let raw = [slot(i32::MAX - 1, 7), slot(f.as_raw_fd(), 7)];
        let mut vanished = 0;
        let groups = group_ofds(&raw, &mut vanished);
        assert_eq!(groups, vec![vec![1]], "the live slot must keep its OFD");
        assert_eq!(vanished, 1);
    }
}
