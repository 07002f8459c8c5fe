//! The fd diagram drawn here, without Graphviz: a fixed three-row layout (fd tables on top,
//! open file descriptions in the middle, vnodes at the bottom, as CPlayground drew them).

use super::{fd_label, table_note, wrap};
use crate::pips::fds::{flags_text, Kind, Snapshot};
use std::fmt::Write as _;

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
/// sweeps ([`crate::pips::layout::barycentre_order`]) over table -> OFD and OFD -> vnode edges.
fn row_order(s: &Snapshot) -> crate::pips::layout::Order {
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
    crate::pips::layout::barycentre_order(&sizes, &[table_ofd, ofd_vnode], None, 6)
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

/// Where everything goes: three rows (tables, OFDs, vnodes), each box under the mean of what
/// points to it, and the notes under the diagram.
struct Layout {
    /// The top of each row.
    y0: f64,
    y1: f64,
    y2: f64,
    /// Each table's box: (x, width, height).
    table_boxes: Vec<(f64, f64, f64)>,
    /// Each table's cell width.
    cell_w: Vec<f64>,
    /// The top-left corner of each (table, fd) cell.
    cell_pos: std::collections::HashMap<(usize, i32), (f64, f64)>,
    /// Each OFD's x and width.
    ofd_x: Vec<f64>,
    ofd_w: Vec<f64>,
    /// Each vnode's x and width.
    vn_x: Vec<f64>,
    vn_w: Vec<f64>,
    /// The notes' lines, wrapped.
    warn_text: Vec<String>,
    width: f64,
    height: f64,
}

/// The tables' row: boxes side by side in `order`, fds in cells as wide as the widest label.
/// Returns the boxes, the cell widths, the cells, and the row's right end.
#[allow(clippy::type_complexity)]
fn place_tables(
    s: &Snapshot,
    order: &[usize],
    y0: f64,
) -> (
    Vec<(f64, f64, f64)>,
    Vec<f64>,
    std::collections::HashMap<(usize, i32), (f64, f64)>,
    f64,
) {
    let mut table_boxes = vec![(0.0, 0.0, 0.0); s.tables.len()]; // (x, w, h)
    let mut cell_w = vec![CELL_W; s.tables.len()];
    let mut cell_pos: std::collections::HashMap<(usize, i32), (f64, f64)> = Default::default();
    let mut x = MARGIN;
    for &ti in order {
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

    (table_boxes, cell_w, cell_pos, x)
}

/// The mean x of some points and the leftmost one (`MAX` for none), to place a box under them.
fn mean(xs: Vec<f64>) -> (f64, f64) {
    if xs.is_empty() {
        (f64::MAX, f64::MAX)
    } else {
        let left = xs.iter().copied().fold(f64::MAX, f64::min);
        (xs.iter().sum::<f64>() / xs.len() as f64, left)
    }
}

/// The notes under the diagram (warnings, hidden images), wrapped to `width`.
fn notes_text(s: &Snapshot, width: f64) -> Vec<String> {
    let chars = ((width - 2.0 * MARGIN) / 6.7).max(40.0) as usize;
    let mut notes: Vec<String> = s.warnings.iter().map(|w| format!("⚠ {}", w.text)).collect();
    if s.hidden_images > 0 {
        notes.push(format!(
            "{} task-image memfd{} (pip-core's /memfd:pip-task:...) not shown: --show-images shows them",
            s.hidden_images,
            if s.hidden_images == 1 { "" } else { "s" }
        ));
    }
    notes
        .iter()
        .flat_map(|w| {
            let words: Vec<String> = w.split(' ').map(String::from).collect();
            wrap(&words, chars, "")
                .lines()
                .map(String::from)
                .collect::<Vec<_>>()
        })
        .collect()
}

impl Layout {
    fn of(s: &Snapshot) -> Layout {
        let order = row_order(s);
        let y0 = MARGIN + 34.0;
        let (table_boxes, cell_w, cell_pos, x) = place_tables(s, &order[0], y0);
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
        let warn_text = notes_text(s, width);
        let height = y2 + VN_H + MARGIN + 18.0 * warn_text.len() as f64 + 10.0;
        Layout {
            y0,
            y1,
            y2,
            table_boxes,
            cell_w,
            cell_pos,
            ofd_x,
            ofd_w,
            vn_x,
            vn_w,
            warn_text,
            width,
            height,
        }
    }
}

/// The built-in SVG: a fixed three-row layout (fd tables, OFDs, vnodes) needing no layout
/// engine. Rows are ordered to reduce crossing arrows (barycentre sweeps), OFDs sit under the
/// fds that point at them and vnodes under their OFDs; every box is as wide as its text, so no
/// name is cut. Tables are labelled by the tasks that hold them (`root`, `task 2`). Task-image
/// memfds left out by [`Snapshot::hide`] are counted in a note. Every element has a stable `id`
/// (`T0`, `T0-fd3`, `o5`, `v2`, `e-T0-3`, `e-o5`) so that a live page can follow it.
pub fn fds_svg_builtin(title: &str, s: &Snapshot) -> String {
    let l = Layout::of(s);
    let mut o = String::new();
    svg_open(&mut o, &l, s, title);
    svg_edges(&mut o, &l, s);
    svg_tables(&mut o, &l, s);
    svg_ofds(&mut o, &l, s);
    svg_vnodes(&mut o, &l, s);
    svg_notes(&mut o, &l);
    let _ = writeln!(o, "</svg>");
    o
}

/// The `<svg>` element, the arrow markers (one per colour), the title and the row names.
fn svg_open(o: &mut String, l: &Layout, s: &Snapshot, title: &str) {
    let l_height = l.height;
    let l_width = l.width;
    let _ = writeln!(
        o,
        r#"<svg xmlns="http://www.w3.org/2000/svg" id="pips-fds" width="{l_width:.0}" height="{l_height:.0}" viewBox="0 0 {l_width:.0} {l_height:.0}" font-family="monospace" font-size="11">"#
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
        l.y0 - 4.0,
        l.y1 - 6.0,
        l.y2 - 6.0
    );
}

/// The arrows, drawn first so that the boxes cover their ends.
fn svg_edges(o: &mut String, l: &Layout, s: &Snapshot) {
    for (ti, t) in s.tables.iter().enumerate() {
        for f in &t.fds {
            let (cx, cy) = l.cell_pos[&(ti, f.fd)];
            let (sx, sy) = (cx + l.cell_w[ti] / 2.0 - 1.0, cy + CELL_H - 2.0);
            let (ex, ey) = (l.ofd_x[f.ofd] + l.ofd_w[f.ofd] / 2.0, l.y1);
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
        let (sx, sy) = (l.ofd_x[oi] + l.ofd_w[oi] / 2.0, l.y1 + OFD_H);
        let (ex, ey) = (l.vn_x[f.vnode] + l.vn_w[f.vnode] / 2.0, l.y2);
        let _ = writeln!(
            o,
            r##"<path id="e-{}" class="edge ofd-edge" d="M{sx:.1},{sy:.1} C{sx:.1},{:.1} {ex:.1},{:.1} {ex:.1},{ey:.1}" stroke="#666666" stroke-width="1.2" fill="none" marker-end="url(#arrow-666666)"/>"##,
            f.name(),
            sy + 35.0,
            ey - 35.0
        );
    }
}

/// The fd tables, with a cell per fd.
fn svg_tables(o: &mut String, l: &Layout, s: &Snapshot) {
    let l_y0 = l.y0;
    for (ti, t) in s.tables.iter().enumerate() {
        let (bx, bw, bh) = l.table_boxes[ti];
        let _ = writeln!(
            o,
            r##"<g id="{}" class="fd-table" data-key="{}" data-holders="{}"><rect x="{bx:.1}" y="{l_y0:.1}" width="{bw:.1}" height="{bh:.1}" rx="4" fill="#ffffff" stroke="{}" stroke-width="2"/><rect x="{bx:.1}" y="{l_y0:.1}" width="{bw:.1}" height="34" rx="4" fill="{}" fill-opacity="0.18"/><text x="{:.1}" y="{:.1}" font-weight="bold" fill="{}">{}</text><text x="{:.1}" y="{:.1}">{}</text>"##,
            t.name(),
            xml(t.main_label()),
            xml(&t.holders_text()),
            t.color,
            t.color,
            bx + 6.0,
            l.y0 + 14.0,
            t.color,
            xml(&t.holders_text()),
            bx + 6.0,
            l.y0 + 28.0,
            xml(&table_note(t))
        );
        for f in &t.fds {
            let (cx, cy) = l.cell_pos[&(ti, f.fd)];
            let _ = writeln!(
                o,
                r##"<g id="{}-fd{}" class="fd"><rect x="{cx:.1}" y="{cy:.1}" width="{:.1}" height="{:.1}" fill="#f7f7f7" stroke="#999"/><text x="{:.1}" y="{:.1}" text-anchor="middle" font-size="10">{}{}</text></g>"##,
                t.name(),
                f.fd,
                l.cell_w[ti] - 2.0,
                CELL_H - 2.0,
                cx + l.cell_w[ti] / 2.0 - 1.0,
                cy + 14.0,
                f.fd,
                if f.cloexec { "*" } else { "" }
            );
        }
        let _ = writeln!(o, "</g>");
    }
}

/// The open file descriptions, with R/W marks.
fn svg_ofds(o: &mut String, l: &Layout, s: &Snapshot) {
    let l_y1 = l.y1;
    for (oi, f) in s.ofds.iter().enumerate() {
        let (bx, ow) = (l.ofd_x[oi], l.ofd_w[oi]);
        let _ = write!(
            o,
            r##"<g id="{}" class="ofd"><rect x="{bx:.1}" y="{l_y1:.1}" width="{ow:.1}" height="{OFD_H}" rx="8" fill="#fafafa" stroke="#444"/><text x="{:.1}" y="{:.1}" font-weight="bold">{}</text>"##,
            f.name(),
            bx + 8.0,
            l.y1 + 16.0,
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
                    l.y1 + 5.0,
                    mx + 8.0,
                    l.y1 + 16.0
                );
            }
        }
        let _ = writeln!(
            o,
            r##"<text x="{:.1}" y="{:.1}">pos {}  refs {}</text><text x="{:.1}" y="{:.1}" font-size="9" fill="#444">{}</text></g>"##,
            bx + 8.0,
            l.y1 + 36.0,
            f.pos,
            f.refs(),
            bx + 8.0,
            l.y1 + 54.0,
            xml(&flags_text(f.flags))
        );
    }
}

/// The vnodes, with type marks (a warned one is highlighted).
fn svg_vnodes(o: &mut String, l: &Layout, s: &Snapshot) {
    let l_y2 = l.y2;
    for (vi, v) in s.vnodes.iter().enumerate() {
        let (bx, vw) = (l.vn_x[vi], l.vn_w[vi]);
        let warn = s.warnings.iter().any(|w| w.vnode == vi);
        let _ = writeln!(
            o,
            r##"<g id="{}" class="vnode{}" data-kind="{}" data-key="{}:{}"><rect x="{bx:.1}" y="{l_y2:.1}" width="{vw:.1}" height="{VN_H}" fill="{}" stroke="{}" stroke-width="{}"/><rect x="{:.1}" y="{:.1}" width="44" height="15" rx="3" fill="{}" stroke="#555"/><text x="{:.1}" y="{:.1}" text-anchor="middle" font-size="10" font-weight="bold">{}</text><text x="{:.1}" y="{:.1}" font-weight="bold">{}</text><text x="{:.1}" y="{:.1}">{}</text><text x="{:.1}" y="{:.1}" font-size="9" fill="#555">{} ino {}</text></g>"##,
            v.name_id(),
            if warn { " warn" } else { "" },
            v.kind.as_str(),
            v.dev,
            v.ino,
            if warn { "#fff3c4" } else { "#ffffff" },
            if warn { "#d4a017" } else { "#444" },
            if warn { 2.5 } else { 1.0 },
            bx + 6.0,
            l.y2 + 5.0,
            kind_color(v.kind),
            bx + 28.0,
            l.y2 + 16.0,
            v.kind.as_str(),
            bx + 56.0,
            l.y2 + 16.0,
            v.name_id(),
            bx + 6.0,
            l.y2 + 33.0,
            xml(&v.name),
            bx + 6.0,
            l.y2 + 45.0,
            v.dev_text(),
            v.ino
        );
    }
}

/// The notes under the diagram.
fn svg_notes(o: &mut String, l: &Layout) {
    for (i, line) in l.warn_text.iter().enumerate() {
        let _ = writeln!(
            o,
            r##"<text class="warning" x="{MARGIN}" y="{:.1}" fill="#a05a00">{}</text>"##,
            l.y2 + VN_H + MARGIN + 18.0 * i as f64 + 6.0,
            xml(line)
        );
    }
}
