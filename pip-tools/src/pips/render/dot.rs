//! The fd diagram in Graphviz DOT, and its SVG through the system's `dot`.

use super::svg::fds_svg_builtin;
use super::table_note;
use crate::pips::fds::{flags_text, Snapshot};
use std::fmt::Write as _;

/// Escapes text for a DOT record label.
pub(super) fn dot_record(s: &str) -> String {
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
    dot_graph_attributes(&mut o, title, s);
    dot_tables(&mut o, s);
    dot_ofds(&mut o, s);
    dot_vnodes(&mut o, s);
    dot_edges(&mut o, s);
    let _ = writeln!(o, "}}");
    o
}

/// The graph's attributes (the title, and how many images are hidden).
fn dot_graph_attributes(o: &mut String, title: &str, s: &Snapshot) {
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
}

/// The fd tables' cluster: one record per table, a port per fd.
fn dot_tables(o: &mut String, s: &Snapshot) {
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
}

/// The open file descriptions' cluster.
fn dot_ofds(o: &mut String, s: &Snapshot) {
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
}

/// The vnodes' cluster (a warned vnode is filled).
fn dot_vnodes(o: &mut String, s: &Snapshot) {
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
}

/// The arrows: fd to OFD (coloured by table), OFD to vnode.
fn dot_edges(o: &mut String, s: &Snapshot) {
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
