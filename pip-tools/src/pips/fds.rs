//! A snapshot of what a job's threads hold: fd tables -> open file descriptions -> vnodes.
//!
//! The three levels, and where each comes from:
//!
//! 1. **Fd tables.** Every thread of the job, and every process a thread forked, is a *holder*.
//!    Holders that share one table (the root and its thread-mode tasks, unless a task has a
//!    private table) are grouped with `kcmp(KCMP_FILES)`. Each table is read once, through one
//!    of its holders' `/proc/PID/task/TID/fd` and `fdinfo` (never `/proc/PID/fd`, which shows only
//!    the leader's table).
//! 2. **Open file descriptions** (OFDs, the kernel's `struct file`: access mode, offset, status
//!    flags). Two fds, in one table or two, share an OFD after `dup`, `fork`, or an unshare that
//!    copied the table; procfs cannot tell, `kcmp(KCMP_FILE)` can. Slots are first bucketed by
//!    inode (fds of different inodes never share an OFD), then each bucket is sorted into runs
//!    of equal OFDs with `kcmp`'s order, by binary insertion: O(n log n) calls in the worst case,
//!    none for the common fd whose inode nothing else holds. The offset and flags come from
//!    `fdinfo` (`flags` there includes the fd's own close-on-exec bit, `02000000`).
//! 3. **Vnodes** (inodes): keyed by device and inode from `stat` of the fd (which follows the
//!    magic link), except anonymous inodes (eventfd, epoll, signalfd, timerfd, ...), which all
//!    share one inode and are therefore kept one per OFD. The type comes from `st_mode` and the
//!    link text, never from the OFD's flags.
//!
//! **Stable ids.** kcmp gives no ids. A [`Tracker`] remembers, for every table and OFD, one
//! representative (thread, fd) from the previous snapshot and re-matches it with `kcmp`, so that
//! a live view keeps `T1`, `o7`, `v3` on the same objects between refreshes. Vnodes keep their
//! id by device and inode.
//!
//! **Warnings.** For every pipe with readers: a reader table that holds a write end itself can
//! never see end-of-file while it keeps it; and when write ends are open in more than one table,
//! readers see end-of-file only when all of them close, so the holders are named (the usual
//! forgotten `close` after `fork`/`dup2`, or a table copied at spawn). A reader blocked in `read`
//! on the pipe right now is said so (from `wchan` and, when readable, `syscall`).
//! Leaked fds: procfs records no use of an fd (no access time, no counter), so "never used"
//! cannot be told for sure. What can be told is that a slot of another table has the same fd
//! number and OFD as the root's table (`also_in_root` in JSON): inherited at spawn or fork, not
//! opened by the task. Such an fd, other than stdio and pip-core's own task images and wait
//! board, is reported (`fd-inherited`) as a possible leak, once per fd: each table that keeps it
//! keeps the file open (a pipe's write end kept this way also stops its readers' end-of-file).
//!
//! Threads and fds that vanish during the snapshot are skipped (and counted in `errors`), never
//! a failure; tables that may not be read are listed in `errors` with the reason.

use super::jobs::Job;
use super::procfs;
use serde_json::{json, Value};
use std::cmp::Ordering;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Colours of fd tables (their boxes and their arrows), by table id.
pub const PALETTE: [&str; 10] = [
    "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf",
    "#bcbd22", "#7f7f7f",
];

/// A thread that holds an fd table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    /// Its process.
    pub pid: i32,
    /// The thread.
    pub tid: i32,
    /// `root`, `task 3`, `child 1234`, `thread 1250`.
    pub label: String,
}

/// The holders of a job: every thread of the root's process (root, tasks, and threads the
/// tasks made) and every thread of the processes of its rows (process-mode tasks, forked
/// processes). When the job's rows were filtered down to some tasks, only their threads.
pub fn holders_of_job(job: &Job) -> Vec<Holder> {
    let mut out = Vec::new();
    let label_of = |pid: i32, tid: i32| {
        job.tasks
            .iter()
            .find(|t| t.tid == tid && t.pid == pid)
            .map(|t| t.label())
    };
    // A job filtered down to some tasks (no root row) shows only those tasks' tables.
    let whole = job.tasks.iter().any(|t| t.role == super::jobs::Role::Root);
    for tid in procfs::tids(job.pid).unwrap_or_default() {
        if !whole && !job.tasks.iter().any(|t| t.tid == tid) {
            continue;
        }
        out.push(Holder {
            pid: job.pid,
            tid,
            label: label_of(job.pid, tid).unwrap_or_else(|| format!("thread {tid}")),
        });
    }
    // Rows with a process of their own: process-mode tasks and forked processes.
    let mut seen = std::collections::HashSet::new();
    for t in job
        .tasks
        .iter()
        .filter(|t| t.pid != job.pid && seen.insert(t.pid))
    {
        for tid in procfs::tids(t.pid).unwrap_or_default() {
            out.push(Holder {
                pid: t.pid,
                tid,
                label: if tid == t.tid {
                    t.label()
                } else {
                    format!("thread {tid} of {}", t.pid)
                },
            });
        }
    }
    out
}

/// Access mode of an open file description.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// `O_RDONLY`.
    Read,
    /// `O_WRONLY`.
    Write,
    /// `O_RDWR`.
    ReadWrite,
    /// `O_PATH` and other odd modes.
    Other,
}

impl Access {
    /// From open flags.
    pub fn from_flags(flags: u32) -> Access {
        if flags & libc::O_PATH as u32 != 0 {
            return Access::Other;
        }
        match flags & libc::O_ACCMODE as u32 {
            0 => Access::Read,
            1 => Access::Write,
            2 => Access::ReadWrite,
            _ => Access::Other,
        }
    }
    /// `R`, `W`, `RW` or `-`.
    pub fn as_str(self) -> &'static str {
        match self {
            Access::Read => "R",
            Access::Write => "W",
            Access::ReadWrite => "RW",
            Access::Other => "-",
        }
    }
    /// Reads.
    pub fn reads(self) -> bool {
        matches!(self, Access::Read | Access::ReadWrite)
    }
    /// Writes.
    pub fn writes(self) -> bool {
        matches!(self, Access::Write | Access::ReadWrite)
    }
}

/// What a vnode is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A regular file.
    File,
    /// A `memfd_create` file (pip-core's task images are these).
    Memfd,
    /// A directory.
    Dir,
    /// A pipe or FIFO.
    Pipe,
    /// A socket.
    Socket,
    /// A terminal (`/dev/pts/N`, `/dev/ttyN`, `/dev/tty`, `/dev/ptmx`).
    Tty,
    /// Another character device (`/dev/null`, ...).
    Chr,
    /// A block device.
    Blk,
    /// An anonymous inode: eventfd, epoll, signalfd, timerfd, inotify, pidfd, ...
    Anon,
    /// Anything else.
    Other,
}

impl Kind {
    /// The type mark: `FILE`, `PIPE`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::File => "FILE",
            Kind::Memfd => "MEMFD",
            Kind::Dir => "DIR",
            Kind::Pipe => "PIPE",
            Kind::Socket => "SOCK",
            Kind::Tty => "TTY",
            Kind::Chr => "CHR",
            Kind::Blk => "BLK",
            Kind::Anon => "ANON",
            Kind::Other => "?",
        }
    }

    /// Classifies from `st_mode`, `st_rdev` and the link text.
    pub fn classify(mode: u32, rdev: u64, link: &str) -> Kind {
        if link.starts_with("anon_inode:") {
            return Kind::Anon;
        }
        match mode & libc::S_IFMT {
            libc::S_IFREG if link.starts_with("/memfd:") => Kind::Memfd,
            libc::S_IFREG => Kind::File,
            libc::S_IFDIR => Kind::Dir,
            libc::S_IFIFO => Kind::Pipe,
            libc::S_IFSOCK => Kind::Socket,
            libc::S_IFBLK => Kind::Blk,
            libc::S_IFCHR => {
                let major = libc::major(rdev);
                if major == 4 || major == 5 || (136..=143).contains(&major) {
                    Kind::Tty
                } else {
                    Kind::Chr
                }
            }
            _ if link.starts_with("pipe:") => Kind::Pipe,
            _ if link.starts_with("socket:") => Kind::Socket,
            _ => Kind::Other,
        }
    }
}

/// One fd of a table.
#[derive(Debug, Clone)]
pub struct FdSlot {
    /// The fd number.
    pub fd: i32,
    /// Index of its OFD in [`Snapshot::ofds`].
    pub ofd: usize,
    /// Close-on-exec.
    pub cloexec: bool,
    /// The root's table has the same fd number on the same OFD (inherited at spawn or fork).
    pub also_in_root: bool,
}

/// A group of holders sharing one fd table.
#[derive(Debug, Clone)]
pub struct FdTable {
    /// Stable id (`T<id>`).
    pub id: usize,
    /// Its colour.
    pub color: &'static str,
    /// The threads that share it.
    pub holders: Vec<Holder>,
    /// Its fds, by number.
    pub fds: Vec<FdSlot>,
}

impl FdTable {
    /// `T3`.
    pub fn name(&self) -> String {
        format!("T{}", self.id)
    }
    /// Its holders in short: `root, task 0, task 1 +2 threads`.
    pub fn holders_text(&self) -> String {
        let named: Vec<&str> = self
            .holders
            .iter()
            .filter(|h| !h.label.starts_with("thread "))
            .map(|h| h.label.as_str())
            .collect();
        let others = self.holders.len() - named.len();
        let mut s = named.join(", ");
        if others > 0 {
            if !s.is_empty() {
                s.push(' ');
            }
            s.push_str(&format!(
                "+{others} thread{}",
                if others == 1 { "" } else { "s" }
            ));
        }
        s
    }
    /// How diagrams and warnings name it: by its holders, then its id (`task 2 (table T3)`).
    /// Ids count tables from the root's, so the id alone says nothing about the task.
    pub fn label(&self) -> String {
        format!("{} (table {})", self.holders_text(), self.name())
    }
    /// The holder to name it by (the first named one).
    pub fn main_label(&self) -> &str {
        self.holders
            .iter()
            .find(|h| !h.label.starts_with("thread "))
            .or(self.holders.first())
            .map(|h| h.label.as_str())
            .unwrap_or("?")
    }
}

/// An open file description.
#[derive(Debug, Clone)]
pub struct Ofd {
    /// Stable id (`o<id>`).
    pub id: usize,
    /// Access mode.
    pub access: Access,
    /// File offset.
    pub pos: u64,
    /// Status flags (`fdinfo`'s, without the per-fd close-on-exec bit).
    pub flags: u32,
    /// Index of its vnode in [`Snapshot::vnodes`].
    pub vnode: usize,
    /// The fd slots that refer to it: (index of table, fd).
    pub slots: Vec<(usize, i32)>,
}

impl Ofd {
    /// `o7`.
    pub fn name(&self) -> String {
        format!("o{}", self.id)
    }
    /// How many fds refer to it (in every table of the snapshot).
    pub fn refs(&self) -> usize {
        self.slots.len()
    }
}

/// A vnode (inode).
#[derive(Debug, Clone)]
pub struct Vnode {
    /// Stable id (`v<id>`).
    pub id: usize,
    /// Its type.
    pub kind: Kind,
    /// Path or link text (`/etc/hosts`, `pipe:[1234]`, `anon_inode:[eventfd]`).
    pub name: String,
    /// Device (`st_dev`).
    pub dev: u64,
    /// Inode number.
    pub ino: u64,
    /// Indices of its OFDs in [`Snapshot::ofds`].
    pub ofds: Vec<usize>,
}

impl Vnode {
    /// `v3`.
    pub fn name_id(&self) -> String {
        format!("v{}", self.id)
    }
    /// `major:minor`.
    pub fn dev_text(&self) -> String {
        format!("{}:{}", libc::major(self.dev), libc::minor(self.dev))
    }
}

/// A problem the snapshot shows.
#[derive(Debug, Clone)]
pub struct Warning {
    /// `pipe-self-writer` (a reader holds a write end itself), `pipe-eof` (write ends in
    /// several tables) or `fd-inherited` (an fd a table holds only because it copied the
    /// root's: a possible leak).
    pub kind: &'static str,
    /// Index of the vnode concerned.
    pub vnode: usize,
    /// The explanation, naming the holders.
    pub text: String,
}

/// One snapshot of a job's fd tables, OFDs and vnodes.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// Fd tables, by id.
    pub tables: Vec<FdTable>,
    /// OFDs, in order of their first slot.
    pub ofds: Vec<Ofd>,
    /// Vnodes, in order of their first OFD.
    pub vnodes: Vec<Vnode>,
    /// Warnings.
    pub warnings: Vec<Warning>,
    /// What could not be read, and why.
    pub errors: Vec<String>,
    /// How many fd slots were read.
    pub slots: usize,
    /// How long the snapshot took.
    pub elapsed: Duration,
    /// How many task-image memfds (`/memfd:pip-task:...`) [`Snapshot::hide`] left out.
    pub hidden_images: usize,
}

/// OFD representatives by inode: (dev, ino) -> [(id, tid, fd)].
type OfdReps = HashMap<(u64, u64), Vec<(usize, i32, i32)>>;

/// Remembers representatives between snapshots, for stable ids.
#[derive(Debug, Default, Clone)]
pub struct Tracker {
    tables: Vec<(usize, i32)>, // (id, representative tid)
    ofds: OfdReps,
    vnodes: HashMap<(u64, u64, i64), usize>,
    next_table: usize,
    next_ofd: usize,
    next_vnode: usize,
    /// How many snapshots were taken.
    pub generation: u64,
}

impl Tracker {
    /// A tracker with no history.
    pub fn new() -> Tracker {
        Tracker::default()
    }
}

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

    // Read each table once, through the first holder that can be read.
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
                    snap.errors.push(format!(
                        "{} (tid {}): cannot read its fd table: {}",
                        h.label,
                        h.tid,
                        procfs::why_denied(h.pid)
                    ));
                    break;
                }
                Err(e) => {
                    snap.errors.push(format!(
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
    snap.slots = raw.len();

    // OFDs: bucket by inode, then sort each bucket into runs with kcmp.
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
            let (mut lo, mut hi) = (0usize, sorted.len());
            while lo < hi {
                let mid = (lo + hi) / 2;
                let rep = &raw[sorted[mid][0]];
                let me = &raw[m];
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
                    Err(_) => {
                        vanished += 1; // The fd (or the representative's) closed meanwhile.
                        continue 'slot;
                    }
                }
            }
            sorted.insert(lo, vec![m]);
        }
        ofd_groups.extend(sorted);
    }
    if vanished > 0 {
        snap.errors.push(format!(
            "{vanished} fd(s) closed or changed while the snapshot was taken (skipped)"
        ));
    }
    // Order OFDs by their first slot (table, fd), so the pictures read left to right.
    for g in ofd_groups.iter_mut() {
        g.sort_by_key(|&i| (raw[i].table, raw[i].fd));
    }
    ofd_groups.sort_by_key(|g| (raw[g[0]].table, raw[g[0]].fd));

    // Stable table ids.
    let mut used_tables = Vec::new();
    let mut table_ids = Vec::new();
    for g in &tables {
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
        .zip(&tables)
        .map(|(id, g)| (*id, g[0].tid))
        .collect();

    // Vnodes and OFDs.
    let mut vnode_index: HashMap<(u64, u64, i64), usize> = HashMap::new();
    let mut used_ofds = std::collections::HashSet::new();
    let mut new_ofd_reps = OfdReps::new();
    for g in &ofd_groups {
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

    // Tables with their slots.
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
    // Slots refer to tables by index; keep the vector in index order (ids may differ).
    snap.warnings = pipe_warnings(&snap);
    snap.warnings.extend(inherited_warnings(&snap));
    snap.elapsed = t0.elapsed();
    snap
}

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

/// Decodes open flags for display: `O_WRONLY|O_APPEND|O_NONBLOCK`.
pub fn flags_text(flags: u32) -> String {
    let mut v = vec![match flags & libc::O_ACCMODE as u32 {
        0 => "O_RDONLY",
        1 => "O_WRONLY",
        _ => "O_RDWR",
    }];
    let named: [(i32, &str); 9] = [
        (libc::O_APPEND, "O_APPEND"),
        (libc::O_NONBLOCK, "O_NONBLOCK"),
        (libc::O_DSYNC, "O_DSYNC"),
        (libc::O_SYNC & !libc::O_DSYNC, "O_SYNC"),
        (libc::O_DIRECT, "O_DIRECT"),
        (libc::O_NOATIME, "O_NOATIME"),
        (libc::O_PATH, "O_PATH"),
        (libc::O_DIRECTORY, "O_DIRECTORY"),
        (libc::O_ASYNC, "O_ASYNC"),
    ];
    for (bit, name) in named {
        if flags & bit as u32 != 0 {
            v.push(name);
        }
    }
    v.join("|")
}

/// Whether a vnode name is one of pip-core's task images (`/memfd:pip-task:...`: the prefix is
/// [`pip_core::waits::IMAGE_MEMFD_PREFIX`], which roots also publish in their job facts).
pub fn is_task_image(name: &str) -> bool {
    name.strip_prefix("/memfd:")
        .is_some_and(|n| n.starts_with(pip_core::waits::IMAGE_MEMFD_PREFIX))
}

impl Snapshot {
    /// The table with this id.
    pub fn table_by_id(&self, id: usize) -> Option<&FdTable> {
        self.tables.iter().find(|t| t.id == id)
    }

    /// The snapshot as JSON: `tables`, `ofds`, `vnodes` keyed by their ids, plus warnings and
    /// errors.
    pub fn to_json(&self) -> Value {
        json!({
            "tables": self.tables.iter().map(|t| json!({
                "id": t.name(),
                "color": t.color,
                "holders": t.holders.iter().map(|h| json!({"pid": h.pid, "tid": h.tid, "label": h.label})).collect::<Vec<_>>(),
                "fds": t.fds.iter().map(|s| json!({
                    "fd": s.fd,
                    "ofd": self.ofds[s.ofd].name(),
                    "cloexec": s.cloexec,
                    "also_in_root": s.also_in_root,
                })).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
            "ofds": self.ofds.iter().map(|o| json!({
                "id": o.name(),
                "access": o.access.as_str(),
                "pos": o.pos,
                "flags": format!("{:o}", o.flags),
                "flags_text": flags_text(o.flags),
                "refs": o.refs(),
                "vnode": self.vnodes[o.vnode].name_id(),
                "slots": o.slots.iter().map(|&(t, fd)| json!({"table": self.tables[t].name(), "fd": fd})).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
            "vnodes": self.vnodes.iter().map(|v| json!({
                "id": v.name_id(),
                "kind": v.kind.as_str(),
                "name": v.name,
                "dev": v.dev_text(),
                "ino": v.ino,
                "ofds": v.ofds.iter().map(|&o| self.ofds[o].name()).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
            "warnings": self.warnings.iter().map(|w| json!({
                "kind": w.kind, "vnode": self.vnodes[w.vnode].name_id(), "text": w.text,
            })).collect::<Vec<_>>(),
            "errors": self.errors,
            "slots": self.slots,
            "elapsed_ms": self.elapsed.as_secs_f64() * 1e3,
        })
    }

    /// Drops fds 0-2 everywhere (`--hide-stdio`) and OFDs and vnodes left without fds.
    pub fn hide(&mut self, stdio: bool, images: bool) {
        let hidden_vnode = |v: &Vnode| images && is_task_image(&v.name);
        if images {
            self.hidden_images += self
                .vnodes
                .iter()
                .filter(|v| is_task_image(&v.name))
                .count();
        }
        let mut keep_ofd = vec![false; self.ofds.len()];
        for t in self.tables.iter_mut() {
            t.fds.retain(|s| {
                let is_stdio = stdio && (0..=2).contains(&s.fd);
                !is_stdio && !hidden_vnode(&self.vnodes[self.ofds[s.ofd].vnode])
            });
            for s in &t.fds {
                keep_ofd[s.ofd] = true;
            }
        }
        // Re-index OFDs and vnodes.
        let mut ofd_map = vec![usize::MAX; self.ofds.len()];
        let mut ofds = Vec::new();
        for (i, o) in self.ofds.iter().enumerate() {
            if keep_ofd[i] {
                ofd_map[i] = ofds.len();
                let mut o = o.clone();
                o.slots
                    .retain(|&(t, fd)| self.tables[t].fds.iter().any(|s| s.fd == fd));
                ofds.push(o);
            }
        }
        let mut vn_map = vec![usize::MAX; self.vnodes.len()];
        let mut vnodes: Vec<Vnode> = Vec::new();
        for o in ofds.iter_mut() {
            if vn_map[o.vnode] == usize::MAX {
                vn_map[o.vnode] = vnodes.len();
                let mut v = self.vnodes[o.vnode].clone();
                v.ofds.clear();
                vnodes.push(v);
            }
            o.vnode = vn_map[o.vnode];
        }
        for (i, o) in ofds.iter().enumerate() {
            vnodes[o.vnode].ofds.push(i);
        }
        for t in self.tables.iter_mut() {
            for s in t.fds.iter_mut() {
                s.ofd = ofd_map[s.ofd];
            }
        }
        self.warnings.retain(|w| vn_map[w.vnode] != usize::MAX);
        for w in self.warnings.iter_mut() {
            w.vnode = vn_map[w.vnode];
        }
        self.ofds = ofds;
        self.vnodes = vnodes;
    }
}

#[cfg(test)]
mod tests;
