//! Output of `pips`: aligned text tables, DOT, and SVG (through the system's `dot` when it is
//! installed, otherwise with a built-in fixed three-row layout: fd tables on top, open file
//! descriptions in the middle, vnodes at the bottom, as CPlayground drew them).
//!
//! Colours: each fd table has one colour ([`super::fds::PALETTE`], by its stable id), used for
//! its box and for the arrows from its fds. Marks: `R`/`W`/`RW` on open file descriptions (green
//! for read, red for write), a type mark on vnodes (`FILE`, `PIPE`, `SOCK`, `TTY`, `ANON`, ...),
//! `*` after a close-on-exec fd.

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

/// Escapes text for a DOT record label.
fn dot_record(s: &str) -> String {
    let mut o = String::new();
    for c in s.chars() {
        if matches!(c, '{' | '}' | '|' | '<' | '>' | '"' | '\\') {
            o.push('\\');
        }
        o.push(c);
    }
    o
}

/// Escapes text for a quoted DOT string.
fn dot_str(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// The diagram in Graphviz DOT: one record per fd table (a port per fd), one per OFD, one box
/// per vnode; arrows coloured by table.
pub fn fds_dot(title: &str, s: &Snapshot) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "digraph pips_fds {{");
    let _ = writeln!(
        o,
        "  graph [rankdir=TB, nodesep=0.3, ranksep=0.8, fontname=\"monospace\", label=\"{}\", labelloc=t];",
        dot_str(&if s.hidden_images > 0 {
            format!(
                "{title}\n({} task-image memfds not shown: --show-images shows them)",
                s.hidden_images
            )
        } else {
            title.to_string()
        })
    );
    let _ = writeln!(o, "  node [fontname=\"monospace\", fontsize=10];");
    let _ = writeln!(o, "  edge [arrowsize=0.6];");
    let _ = writeln!(
        o,
        "  subgraph cluster_tables {{ label=\"fd tables\"; labeljust=l; style=dashed;"
    );
    for t in &s.tables {
        let ports: Vec<String> = t
            .fds
            .iter()
            .map(|f| format!("<f{}>{}{}", f.fd, f.fd, if f.cloexec { "*" } else { "" }))
            .collect();
        let _ = writeln!(
            o,
            "    {} [shape=record, color=\"{}\", penwidth=2, label=\"{{{}|{{{}}}}}\"];",
            t.name(),
            t.color,
            dot_record(&format!("{}  ({})", t.holders_text(), table_note(t))),
            if ports.is_empty() {
                "(empty)".to_string()
            } else {
                ports.join("|")
            }
        );
    }
    let _ = writeln!(o, "  }}");
    let _ = writeln!(
        o,
        "  subgraph cluster_ofds {{ label=\"open file descriptions\"; labeljust=l; style=dashed;"
    );
    for f in &s.ofds {
        let _ = writeln!(
            o,
            "    {} [shape=Mrecord, label=\"{{{}  {}|pos {}|{}|refs {}}}\"];",
            f.name(),
            f.name(),
            f.access.as_str(),
            f.pos,
            dot_record(&flags_text(f.flags)),
            f.refs()
        );
    }
    let _ = writeln!(o, "  }}");
    let _ = writeln!(
        o,
        "  subgraph cluster_vnodes {{ label=\"vnodes\"; labeljust=l; style=dashed;"
    );
    for (vi, v) in s.vnodes.iter().enumerate() {
        let warn = s.warnings.iter().any(|w| w.vnode == vi);
        let _ = writeln!(
            o,
            "    {} [shape=box{}, label=\"[{}] {}\\n{} ino {}\"];",
            v.name_id(),
            if warn {
                ", style=filled, fillcolor=\"#fff3c4\""
            } else {
                ""
            },
            v.kind.as_str(),
            dot_str(&v.name),
            v.dev_text(),
            v.ino
        );
    }
    let _ = writeln!(o, "  }}");
    for t in &s.tables {
        for f in &t.fds {
            let _ = writeln!(
                o,
                "  {}:f{}:s -> {} [color=\"{}\"];",
                t.name(),
                f.fd,
                s.ofds[f.ofd].name(),
                t.color
            );
        }
    }
    for f in &s.ofds {
        let _ = writeln!(
            o,
            "  {} -> {} [color=gray40];",
            f.name(),
            s.vnodes[f.vnode].name_id()
        );
    }
    let _ = writeln!(o, "}}");
    o
}

/// Renders DOT to SVG with the system's `dot`; `None` when it is not installed or fails.
pub fn dot_to_svg(dot: &str) -> Option<String> {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new("dot")
        .arg("-Tsvg")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let mut stdin = child.stdin.take()?;
    let input = dot.to_string();
    let writer = std::thread::spawn(move || {
        // `dot` may end before reading everything: the tools give SIGPIPE its default action,
        // which must not end pips here.
        crate::block_sigpipe_in_this_thread();
        let _ = stdin.write_all(input.as_bytes());
    });
    let out = child.wait_with_output().ok()?;
    let _ = writer.join();
    (out.status.success() && !out.stdout.is_empty())
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The SVG of a snapshot: the system `dot`'s rendering of [`fds_dot`] when `use_dot` and `dot`
/// is installed, else [`fds_svg_builtin`].
pub fn fds_svg(title: &str, s: &Snapshot, use_dot: bool) -> String {
    if use_dot {
        if let Some(svg) = dot_to_svg(&fds_dot(title, s)) {
            return svg;
        }
    }
    fds_svg_builtin(title, s)
}

/// Escapes XML text.
pub fn xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Fill colour of a vnode type mark.
fn kind_color(k: Kind) -> &'static str {
    match k {
        Kind::File => "#dbe9f6",
        Kind::Memfd => "#e8e0f4",
        Kind::Dir => "#e6e6e6",
        Kind::Pipe => "#fde2c8",
        Kind::Socket => "#d8f0d8",
        Kind::Tty => "#f9d8e6",
        Kind::Chr => "#eeeeee",
        Kind::Blk => "#eeeeee",
        Kind::Anon => "#f4f0c8",
        Kind::Other => "#ffffff",
    }
}

const CELL_W: f64 = 28.0;
const CELL_H: f64 = 22.0;
const CELLS_PER_ROW: usize = 24;
const OFD_W: f64 = 150.0;
const OFD_H: f64 = 70.0;
const VN_W: f64 = 190.0;
const VN_H: f64 = 50.0;
const GAP: f64 = 18.0;
const ROW_GAP: f64 = 90.0;
const MARGIN: f64 = 20.0;
/// Width of one character of the 11 px monospace font (a little over, so text never overflows).
const CHAR_W: f64 = 6.8;
/// The same for the 9 px font.
const SMALL_CHAR_W: f64 = 5.6;

/// Width a text of `chars` characters needs, with `pad` on both sides.
fn text_w(text: &str, char_w: f64, pad: f64) -> f64 {
    text.chars().count() as f64 * char_w + 2.0 * pad
}

/// The order of the three rows (tables, OFDs, vnodes) with few crossing arrows: barycentre
/// sweeps ([`super::layout::barycentre_order`]) over table -> OFD and OFD -> vnode edges.
fn row_order(s: &Snapshot) -> super::layout::Order {
    let sizes = [s.tables.len(), s.ofds.len(), s.vnodes.len()];
    let mut table_ofd: Vec<(usize, usize)> = s
        .tables
        .iter()
        .enumerate()
        .flat_map(|(ti, t)| t.fds.iter().map(move |f| (ti, f.ofd)))
        .collect();
    table_ofd.sort_unstable();
    table_ofd.dedup();
    let ofd_vnode: Vec<(usize, usize)> = s
        .ofds
        .iter()
        .enumerate()
        .map(|(i, o)| (i, o.vnode))
        .collect();
    super::layout::barycentre_order(&sizes, &[table_ofd, ofd_vnode], None, 6)
}

/// Places boxes of `widths` left to right by `key` (the mean and the leftmost x of what they
/// hang from), then by rank in `order`,
/// returning each box's x and the right end.
fn place(order: &[usize], key: impl Fn(usize) -> (f64, f64), widths: &[f64]) -> (Vec<f64>, f64) {
    let mut rank = vec![0; widths.len()];
    for (r, &i) in order.iter().enumerate() {
        rank[i] = r;
    }
    let mut seq: Vec<usize> = order.to_vec();
    seq.sort_by(|&a, &b| {
        let (ka, kb) = (key(a), key(b));
        ka.0.total_cmp(&kb.0)
            .then(ka.1.total_cmp(&kb.1))
            .then(rank[a].cmp(&rank[b]))
    });
    let mut xs = vec![0.0; widths.len()];
    let mut x = MARGIN;
    for i in seq {
        xs[i] = x;
        x += widths[i] + GAP;
    }
    (xs, x)
}

/// The built-in SVG: a fixed three-row layout (fd tables, OFDs, vnodes) needing no layout
/// engine. Rows are ordered to reduce crossing arrows (barycentre sweeps), OFDs sit under the
/// fds that point at them and vnodes under their OFDs; every box is as wide as its text, so no
/// name is cut. Tables are labelled by the tasks that hold them (`root`, `task 2`). Task-image
/// memfds left out by [`Snapshot::hide`] are counted in a note. Every element has a stable `id`
/// (`T0`, `T0-fd3`, `o5`, `v2`, `e-T0-3`, `e-o5`) so that a live page can follow it.
pub fn fds_svg_builtin(title: &str, s: &Snapshot) -> String {
    let order = row_order(s);
    // Row 1: tables, in the order found.
    let y0 = MARGIN + 34.0;
    let mut table_boxes = vec![(0.0, 0.0, 0.0); s.tables.len()]; // (x, w, h)
    let mut cell_w = vec![CELL_W; s.tables.len()];
    let mut cell_pos: std::collections::HashMap<(usize, i32), (f64, f64)> = Default::default();
    let mut x = MARGIN;
    for &ti in &order[0] {
        let t = &s.tables[ti];
        let n = t.fds.len().max(1);
        let cols = n.min(CELLS_PER_ROW);
        let rows = n.div_ceil(CELLS_PER_ROW);
        // Cells as wide as their widest label (`1026*`).
        let cw = t
            .fds
            .iter()
            .map(|f| text_w(&fd_label(f), 6.2, 4.0))
            .fold(CELL_W, f64::max);
        cell_w[ti] = cw;
        let w = (cols as f64 * cw + 12.0)
            .max(text_w(&t.holders_text(), CHAR_W, 8.0))
            .max(text_w(&table_note(t), CHAR_W, 8.0))
            .max(150.0);
        let h = 40.0 + rows as f64 * CELL_H + 8.0;
        for (k, f) in t.fds.iter().enumerate() {
            let cx = x + 6.0 + (k % CELLS_PER_ROW) as f64 * cw;
            let cy = y0 + 40.0 + (k / CELLS_PER_ROW) as f64 * CELL_H;
            cell_pos.insert((ti, f.fd), (cx, cy));
        }
        table_boxes[ti] = (x, w, h);
        x += w + GAP;
    }
    let row1_h = table_boxes.iter().map(|b| b.2).fold(0.0, f64::max);
    let mut width = x;

    // Row 2: OFDs under the mean x of their fds.
    let y1 = y0 + row1_h + ROW_GAP;
    let ofd_w: Vec<f64> = s
        .ofds
        .iter()
        .map(|o| {
            OFD_W
                .max(text_w(&flags_text(o.flags), SMALL_CHAR_W, 8.0))
                .max(text_w(
                    &format!("pos {}  refs {}", o.pos, o.refs()),
                    CHAR_W,
                    8.0,
                ))
        })
        .collect();
    let mean = |xs: Vec<f64>| {
        if xs.is_empty() {
            (f64::MAX, f64::MAX)
        } else {
            let left = xs.iter().copied().fold(f64::MAX, f64::min);
            (xs.iter().sum::<f64>() / xs.len() as f64, left)
        }
    };
    let (ofd_x, right) = place(
        &order[1],
        |i| {
            mean(
                s.ofds[i]
                    .slots
                    .iter()
                    .filter_map(|k| cell_pos.get(k).map(|p| p.0))
                    .collect(),
            )
        },
        &ofd_w,
    );
    width = width.max(right);

    // Row 3: vnodes under the mean centre of their OFDs.
    let y2 = y1 + OFD_H + ROW_GAP;
    let vn_w: Vec<f64> = s
        .vnodes
        .iter()
        .map(|v| {
            VN_W.max(text_w(&v.name, CHAR_W, 6.0)).max(text_w(
                &format!("{} ino {}", v.dev_text(), v.ino),
                SMALL_CHAR_W,
                6.0,
            ))
        })
        .collect();
    let (vn_x, right) = place(
        &order[2],
        |i| {
            mean(
                s.vnodes[i]
                    .ofds
                    .iter()
                    .map(|&o| ofd_x[o] + ofd_w[o] / 2.0)
                    .collect(),
            )
        },
        &vn_w,
    );
    width = width.max(right) + MARGIN;
    // Warnings (and the hidden images) under the diagram, wrapped to its width.
    let chars = ((width - 2.0 * MARGIN) / 6.7).max(40.0) as usize;
    let mut notes: Vec<String> = s.warnings.iter().map(|w| format!("⚠ {}", w.text)).collect();
    if s.hidden_images > 0 {
        notes.push(format!(
            "{} task-image memfd{} (pip-core's /memfd:pip-task:...) not shown: --show-images shows them",
            s.hidden_images,
            if s.hidden_images == 1 { "" } else { "s" }
        ));
    }
    let warn_text: Vec<String> = notes
        .iter()
        .flat_map(|w| {
            let words: Vec<String> = w.split(' ').map(String::from).collect();
            wrap(&words, chars, "")
                .lines()
                .map(String::from)
                .collect::<Vec<_>>()
        })
        .collect();
    let warn_lines = warn_text.len() as f64;
    let height = y2 + VN_H + MARGIN + 18.0 * warn_lines + 10.0;

    let mut o = String::new();
    let _ = writeln!(
        o,
        r#"<svg xmlns="http://www.w3.org/2000/svg" id="pips-fds" width="{width:.0}" height="{height:.0}" viewBox="0 0 {width:.0} {height:.0}" font-family="monospace" font-size="11">"#
    );
    let _ = writeln!(o, "<defs>");
    let mut colors: Vec<&str> = s.tables.iter().map(|t| t.color).collect();
    colors.push("#666666");
    colors.sort_unstable();
    colors.dedup();
    for c in &colors {
        let _ = writeln!(
            o,
            r#"<marker id="arrow-{}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{c}"/></marker>"#,
            &c[1..]
        );
    }
    let _ = writeln!(o, "</defs>");
    let _ = writeln!(
        o,
        r#"<text x="{MARGIN}" y="{}" font-size="13" font-weight="bold">{}</text>"#,
        MARGIN + 6.0,
        xml(title)
    );
    let _ = writeln!(
        o,
        r##"<text x="{MARGIN}" y="{}" fill="#555">fd tables</text><text x="{MARGIN}" y="{}" fill="#555">open file descriptions</text><text x="{MARGIN}" y="{}" fill="#555">vnodes</text>"##,
        y0 - 4.0,
        y1 - 6.0,
        y2 - 6.0
    );
    // Edges first, under the boxes.
    for (ti, t) in s.tables.iter().enumerate() {
        for f in &t.fds {
            let (cx, cy) = cell_pos[&(ti, f.fd)];
            let (sx, sy) = (cx + cell_w[ti] / 2.0 - 1.0, cy + CELL_H - 2.0);
            let (ex, ey) = (ofd_x[f.ofd] + ofd_w[f.ofd] / 2.0, y1);
            let _ = writeln!(
                o,
                r#"<path id="e-{}-{}" class="edge fd-edge" d="M{sx:.1},{sy:.1} C{sx:.1},{:.1} {ex:.1},{:.1} {ex:.1},{ey:.1}" stroke="{}" stroke-width="1.4" fill="none" marker-end="url(#arrow-{})"/>"#,
                t.name(),
                f.fd,
                sy + 40.0,
                ey - 40.0,
                t.color,
                &t.color[1..]
            );
        }
    }
    for (oi, f) in s.ofds.iter().enumerate() {
        let (sx, sy) = (ofd_x[oi] + ofd_w[oi] / 2.0, y1 + OFD_H);
        let (ex, ey) = (vn_x[f.vnode] + vn_w[f.vnode] / 2.0, y2);
        let _ = writeln!(
            o,
            r##"<path id="e-{}" class="edge ofd-edge" d="M{sx:.1},{sy:.1} C{sx:.1},{:.1} {ex:.1},{:.1} {ex:.1},{ey:.1}" stroke="#666666" stroke-width="1.2" fill="none" marker-end="url(#arrow-666666)"/>"##,
            f.name(),
            sy + 35.0,
            ey - 35.0
        );
    }
    // Tables.
    for (ti, t) in s.tables.iter().enumerate() {
        let (bx, bw, bh) = table_boxes[ti];
        let _ = writeln!(
            o,
            r##"<g id="{}" class="fd-table" data-key="{}" data-holders="{}"><rect x="{bx:.1}" y="{y0:.1}" width="{bw:.1}" height="{bh:.1}" rx="4" fill="#ffffff" stroke="{}" stroke-width="2"/><rect x="{bx:.1}" y="{y0:.1}" width="{bw:.1}" height="34" rx="4" fill="{}" fill-opacity="0.18"/><text x="{:.1}" y="{:.1}" font-weight="bold" fill="{}">{}</text><text x="{:.1}" y="{:.1}">{}</text>"##,
            t.name(),
            xml(t.main_label()),
            xml(&t.holders_text()),
            t.color,
            t.color,
            bx + 6.0,
            y0 + 14.0,
            t.color,
            xml(&t.holders_text()),
            bx + 6.0,
            y0 + 28.0,
            xml(&table_note(t))
        );
        for f in &t.fds {
            let (cx, cy) = cell_pos[&(ti, f.fd)];
            let _ = writeln!(
                o,
                r##"<g id="{}-fd{}" class="fd"><rect x="{cx:.1}" y="{cy:.1}" width="{:.1}" height="{:.1}" fill="#f7f7f7" stroke="#999"/><text x="{:.1}" y="{:.1}" text-anchor="middle" font-size="10">{}{}</text></g>"##,
                t.name(),
                f.fd,
                cell_w[ti] - 2.0,
                CELL_H - 2.0,
                cx + cell_w[ti] / 2.0 - 1.0,
                cy + 14.0,
                f.fd,
                if f.cloexec { "*" } else { "" }
            );
        }
        let _ = writeln!(o, "</g>");
    }
    // OFDs with R/W marks.
    for (oi, f) in s.ofds.iter().enumerate() {
        let (bx, ow) = (ofd_x[oi], ofd_w[oi]);
        let _ = write!(
            o,
            r##"<g id="{}" class="ofd"><rect x="{bx:.1}" y="{y1:.1}" width="{ow:.1}" height="{OFD_H}" rx="8" fill="#fafafa" stroke="#444"/><text x="{:.1}" y="{:.1}" font-weight="bold">{}</text>"##,
            f.name(),
            bx + 8.0,
            y1 + 16.0,
            f.name()
        );
        let mut mx = bx + ow - 8.0;
        for (on, mark, color) in [
            (f.access.writes(), "W", "#c0392b"),
            (f.access.reads(), "R", "#27ae60"),
        ] {
            if on {
                mx -= 18.0;
                let _ = write!(
                    o,
                    r##"<g class="mark mark-{mark}"><rect x="{mx:.1}" y="{:.1}" width="16" height="14" rx="3" fill="{color}"/><text x="{:.1}" y="{:.1}" fill="#fff" text-anchor="middle" font-weight="bold">{mark}</text></g>"##,
                    y1 + 5.0,
                    mx + 8.0,
                    y1 + 16.0
                );
            }
        }
        let _ = writeln!(
            o,
            r##"<text x="{:.1}" y="{:.1}">pos {}  refs {}</text><text x="{:.1}" y="{:.1}" font-size="9" fill="#444">{}</text></g>"##,
            bx + 8.0,
            y1 + 36.0,
            f.pos,
            f.refs(),
            bx + 8.0,
            y1 + 54.0,
            xml(&flags_text(f.flags))
        );
    }
    // Vnodes with type marks.
    for (vi, v) in s.vnodes.iter().enumerate() {
        let (bx, vw) = (vn_x[vi], vn_w[vi]);
        let warn = s.warnings.iter().any(|w| w.vnode == vi);
        let _ = writeln!(
            o,
            r##"<g id="{}" class="vnode{}" data-kind="{}" data-key="{}:{}"><rect x="{bx:.1}" y="{y2:.1}" width="{vw:.1}" height="{VN_H}" fill="{}" stroke="{}" stroke-width="{}"/><rect x="{:.1}" y="{:.1}" width="44" height="15" rx="3" fill="{}" stroke="#555"/><text x="{:.1}" y="{:.1}" text-anchor="middle" font-size="10" font-weight="bold">{}</text><text x="{:.1}" y="{:.1}" font-weight="bold">{}</text><text x="{:.1}" y="{:.1}">{}</text><text x="{:.1}" y="{:.1}" font-size="9" fill="#555">{} ino {}</text></g>"##,
            v.name_id(),
            if warn { " warn" } else { "" },
            v.kind.as_str(),
            v.dev,
            v.ino,
            if warn { "#fff3c4" } else { "#ffffff" },
            if warn { "#d4a017" } else { "#444" },
            if warn { 2.5 } else { 1.0 },
            bx + 6.0,
            y2 + 5.0,
            kind_color(v.kind),
            bx + 28.0,
            y2 + 16.0,
            v.kind.as_str(),
            bx + 56.0,
            y2 + 16.0,
            v.name_id(),
            bx + 6.0,
            y2 + 33.0,
            xml(&v.name),
            bx + 6.0,
            y2 + 45.0,
            v.dev_text(),
            v.ino
        );
    }
    for (i, line) in warn_text.iter().enumerate() {
        let _ = writeln!(
            o,
            r##"<text class="warning" x="{MARGIN}" y="{:.1}" fill="#a05a00">{}</text>"##,
            y2 + VN_H + MARGIN + 18.0 * i as f64 + 6.0,
            xml(line)
        );
    }
    let _ = writeln!(o, "</svg>");
    o
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
