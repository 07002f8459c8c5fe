//! Output of `pips`: aligned text tables, DOT, and SVG (through the system's `dot` when it is
//! installed, otherwise with a built-in fixed three-row layout: fd tables on top, open file
//! descriptions in the middle, vnodes at the bottom, as CPlayground drew them).
//!
//! Colours: each fd table has one colour ([`super::fds::PALETTE`], by its stable id), used for
//! its box and for the arrows from its fds. Marks: `R`/`W`/`RW` on open file descriptions (green
//! for read, red for write), a type mark on vnodes (`FILE`, `PIPE`, `SOCK`, `TTY`, `ANON`, ...),
//! `*` after a close-on-exec fd.

mod dot;
mod svg;

pub use dot::{dot_to_svg, fds_dot, fds_svg};
pub use svg::{fds_svg_builtin, xml};

use super::fds::{flags_text, Kind, Snapshot};
use super::jobs::Job;
use super::signals::{names_text, TaskSignals};
use std::fmt::Write as _;

/// A text table with aligned columns (the last column is not padded).
#[derive(Debug, Default)]
pub struct Table {
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these headers.
    pub fn new(headers: &[&str]) -> Table {
        Table {
            rows: vec![headers.iter().map(|s| s.to_string()).collect()],
        }
    }
    /// Adds a row.
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }
    /// Renders, each line prefixed with `indent`.
    pub fn render(&self, indent: &str) -> String {
        let n = self.rows.iter().map(|r| r.len()).max().unwrap_or(0);
        let mut w = vec![0; n];
        for r in &self.rows {
            for (i, c) in r.iter().enumerate() {
                w[i] = w[i].max(c.chars().count());
            }
        }
        let mut out = String::new();
        for r in &self.rows {
            let mut line = String::from(indent);
            for (i, c) in r.iter().enumerate() {
                if i + 1 == r.len() {
                    line.push_str(c);
                } else {
                    let _ = write!(line, "{c:<width$}  ", width = w[i]);
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }
}

/// CPU time as `M:SS.ss`.
fn cpu_time(secs: f64) -> String {
    format!("{}:{:05.2}", (secs / 60.0) as u64, secs % 60.0)
}

/// The `pips` listing of jobs and tasks.
pub fn jobs_text(jobs: &[Job]) -> String {
    let mut t = Table::new(&[
        "ROOT",
        "PIPID",
        "TID",
        "MODE",
        "ISOLATION",
        "FDS",
        "S",
        "%CPU",
        "TIME",
        "PSR",
        "PROGRAM",
    ]);
    for j in jobs {
        for task in &j.tasks {
            t.row(vec![
                j.pid.to_string(),
                task.pipid_label(),
                task.tid.to_string(),
                task.mode.to_string(),
                j.isolation.clone().unwrap_or_else(|| "?".into()),
                task.fds.as_str().to_string(),
                task.state.to_string(),
                format!("{:.1}", task.cpu_percent),
                cpu_time(task.cpu_time),
                task.last_cpu.to_string(),
                task.program.clone(),
            ]);
        }
    }
    let mut out = t.render("");
    for j in jobs {
        for n in &j.notes {
            let _ = writeln!(out, "job {}: {n}", j.pid);
        }
    }
    out
}

/// Wraps words to lines of at most `width` characters, each after `indent`.
fn wrap(words: &[String], width: usize, indent: &str) -> String {
    let mut out = String::new();
    let mut line = String::new();
    for w in words {
        if !line.is_empty() && line.len() + 1 + w.len() > width {
            let _ = writeln!(out, "{indent}{line}");
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(w);
    }
    if !line.is_empty() {
        let _ = writeln!(out, "{indent}{line}");
    }
    out
}

/// 24-bit colour escape for a `#rrggbb` colour.
fn ansi(color: &str, text: &str) -> String {
    let h = |i: usize| u8::from_str_radix(&color[i..i + 2], 16).unwrap_or(128);
    format!("\x1b[38;2;{};{};{}m{text}\x1b[0m", h(1), h(3), h(5))
}

/// The fd diagram as text: fd tables, open file descriptions, vnodes, warnings. `color` adds
/// terminal colours to the table names.
pub fn fds_text(title: &str, s: &Snapshot, color: bool) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{title}  tables {}  ofds {}  vnodes {}  fd slots {}  snapshot {:.1} ms",
        s.tables.len(),
        s.ofds.len(),
        s.vnodes.len(),
        s.slots,
        s.elapsed.as_secs_f64() * 1e3
    );
    out.push_str("FD TABLES (threads sharing one table are grouped; * = close-on-exec)\n");
    for t in &s.tables {
        let name = if color {
            ansi(t.color, &format!("{} ●", t.holders_text()))
        } else {
            format!("{} ●{}", t.holders_text(), t.color)
        };
        let tids: Vec<String> = t.holders.iter().map(|h| h.tid.to_string()).collect();
        let _ = writeln!(
            out,
            "  {name}  table {}  [tids {}]",
            t.name(),
            tids.join(",")
        );
        let cells: Vec<String> = t
            .fds
            .iter()
            .map(|f| {
                format!(
                    "{}{}→{}",
                    f.fd,
                    if f.cloexec { "*" } else { "" },
                    s.ofds[f.ofd].name()
                )
            })
            .collect();
        out.push_str(&wrap(&cells, 96, "      "));
    }
    ofds_text(&mut out, s);
    vnodes_text(&mut out, s);
    if !s.warnings.is_empty() {
        out.push_str("WARNINGS\n");
        for w in &s.warnings {
            let _ = writeln!(out, "  ! [{}] {}", w.kind, w.text);
        }
    }
    for e in &s.errors {
        let _ = writeln!(out, "  note: {e}");
    }
    out
}

/// The open file descriptions' table of [`fds_text`].
fn ofds_text(out: &mut String, s: &Snapshot) {
    out.push_str("OPEN FILE DESCRIPTIONS (refs = fds referring to it, in all tables)\n");
    let mut ot = Table::new(&["OFD", "RW", "POS", "FLAGS", "REFS", "VNODE", "HELD BY"]);
    for o in &s.ofds {
        let held: Vec<String> = o
            .slots
            .iter()
            .map(|&(t, fd)| format!("{}:{fd}", s.tables[t].name()))
            .collect();
        let held = if held.len() > 8 {
            format!("{} … (+{})", held[..8].join(" "), held.len() - 8)
        } else {
            held.join(" ")
        };
        ot.row(vec![
            o.name(),
            o.access.as_str().into(),
            o.pos.to_string(),
            flags_text(o.flags),
            o.refs().to_string(),
            s.vnodes[o.vnode].name_id(),
            held,
        ]);
    }
    out.push_str(&ot.render("  "));
}

/// The vnodes' table of [`fds_text`] (a pipe says how many read and write ends it has).
fn vnodes_text(out: &mut String, s: &Snapshot) {
    out.push_str("VNODES\n");
    let mut vt = Table::new(&["VNODE", "TYPE", "DEV", "INODE", "OFDS", "NAME"]);
    for v in &s.vnodes {
        let ofds: Vec<String> = v.ofds.iter().map(|&o| s.ofds[o].name()).collect();
        let mut extra = String::new();
        if v.kind == Kind::Pipe {
            let count = |f: fn(super::fds::Access) -> bool| -> usize {
                v.ofds
                    .iter()
                    .filter(|&&o| f(s.ofds[o].access))
                    .map(|&o| s.ofds[o].refs())
                    .sum()
            };
            extra = format!(
                "  (read ends {}, write ends {})",
                count(|a| a.reads()),
                count(|a| a.writes())
            );
        }
        vt.row(vec![
            v.name_id(),
            v.kind.as_str().into(),
            v.dev_text(),
            v.ino.to_string(),
            ofds.join(" "),
            format!("{}{extra}", v.name),
        ]);
    }
    out.push_str(&vt.render("  "));
}

/// Signal state as a text table.
pub fn signals_text(rows: &[(i32, TaskSignals)]) -> String {
    let mut t = Table::new(&[
        "ROOT",
        "TASK",
        "TID",
        "BLOCKED",
        "PENDING(THREAD)",
        "PENDING(SHARED)",
        "IGNORED",
        "CAUGHT(HANDLER)",
    ]);
    let mut notes = Vec::new();
    for (job, s) in rows {
        t.row(vec![
            job.to_string(),
            s.label.clone(),
            s.tid.to_string(),
            names_text(&s.blocked),
            names_text(&s.pending_thread),
            names_text(&s.pending_shared),
            names_text(&s.ignored),
            s.caught_text(),
        ]);
        if let Some(n) = &s.handler_note {
            if !notes.contains(n) {
                notes.push(n.clone());
            }
        }
    }
    let mut out = t.render("");
    for n in notes {
        let _ = writeln!(out, "note: {n}");
    }
    out
}

/// An fd cell's label: `3`, `1024*` (close-on-exec).
fn fd_label(f: &super::fds::FdSlot) -> String {
    format!("{}{}", f.fd, if f.cloexec { "*" } else { "" })
}

/// The second line of a table's box: how many fds, and the table's id (`4 fds, table T3`).
fn table_note(t: &super::fds::FdTable) -> String {
    format!(
        "{} fd{}, table {}",
        t.fds.len(),
        if t.fds.len() == 1 { "" } else { "s" },
        t.name()
    )
}

/// The job title used above diagrams.
pub fn job_title(job: &Job) -> String {
    format!(
        "job {} ({}{})",
        job.pid,
        job.program,
        job.isolation
            .as_deref()
            .map(|i| format!(", {i}"))
            .unwrap_or_default()
    )
}

#[cfg(test)]
mod tests;
