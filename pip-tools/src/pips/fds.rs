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

mod snapshot;
mod warnings;

pub use snapshot::snapshot;
pub use warnings::{inherited_warnings, pipe_warnings};

use super::jobs::Job;
use super::procfs;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::time::Duration;

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
