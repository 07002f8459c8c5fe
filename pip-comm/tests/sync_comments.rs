//! pip-comm's `// SYNC(...)` comments point to the protocol they belong to, and stay true.
//!
//! Every atomic operation of the library's protocol code is introduced by a comment
//! `// SYNC(<module path>#<anchor>): <what it pairs with>`, where `<module path>` is the
//! crate-relative path of a module (`wait`, `steal`, `coll_slot`) whose `//!` documentation has
//! a markdown heading with that rustdoc anchor (lowercase, spaces as `-`, punctuation dropped).
//! This test reads the sources and fails when a comment names a module or a heading that does
//! not exist (a section was renamed or moved), when a comment is not in that format, or when a
//! function uses an atomic ordering with no SYNC comment before it in the function.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The shims that define the atomics are not protocol code.
const EXEMPT: &[&str] = &["sync.rs"];

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The module path of a source file (`src/steal/queue.rs` is `steal::queue`).
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
        parts.pop();
    }
    parts.join("::")
}

/// The rustdoc anchor of a heading.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// The anchors of the headings in a file's `//!` documentation.
fn anchors(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.trim_start().strip_prefix("//!"))
        .filter_map(|l| {
            let l = l.trim_start();
            let h = l.trim_start_matches('#');
            (h.len() < l.len() && h.starts_with(' ')).then(|| anchor(h))
        })
        .collect()
}

/// The code before the file's test modules.
fn library_part(text: &str) -> Vec<&str> {
    let lines: Vec<&str> = text.lines().collect();
    let end = lines
        .windows(2)
        .position(|w| {
            w[0].trim_start().starts_with("#[cfg(")
                && w[0].contains("test")
                && w[1].trim_start().starts_with("mod ")
        })
        .unwrap_or(lines.len());
    lines[..end].to_vec()
}

#[test]
fn sync_comments_point_to_existing_protocol_sections() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    files.sort();
    let by_module: BTreeMap<String, String> = files
        .iter()
        .map(|f| (module_of(&src, f), std::fs::read_to_string(f).unwrap()))
        .collect();
    let mut problems = Vec::new();
    let mut count = 0;
    for f in &files {
        let rel = f.strip_prefix(&src).unwrap().display().to_string();
        if EXEMPT.contains(&rel.as_str()) {
            continue;
        }
        let text = &by_module[&module_of(&src, f)];
        let mut covered = false;
        for (i, line) in library_part(text).iter().enumerate() {
            let t = line.trim_start();
            let at = format!("{rel}:{}", i + 1);
            if t.starts_with("fn ")
                || t.starts_with("pub(crate) fn ")
                || t.starts_with("pub(super) fn ")
                || t.starts_with("pub fn ")
                || t.starts_with("pub(crate) unsafe fn ")
                || t.starts_with("unsafe fn ")
            {
                covered = false;
            }
            if let Some(rest) = t.strip_prefix("// SYNC") {
                count += 1;
                covered = true;
                let Some((target, what)) = rest.strip_prefix('(').and_then(|r| r.split_once("): "))
                else {
                    problems.push(format!("{at}: not `// SYNC(<module>#<anchor>): ...`"));
                    continue;
                };
                let (module, heading) = target.split_once('#').unwrap_or((target, ""));
                if what.trim().is_empty() {
                    problems.push(format!("{at}: says nothing of what it pairs with"));
                }
                match by_module.get(module) {
                    None => problems.push(format!("{at}: no module `{module}`")),
                    Some(m) if !anchors(m).iter().any(|a| a == heading) => {
                        problems.push(format!("{at}: `{module}` has no heading `#{heading}`"))
                    }
                    Some(_) => {}
                }
            } else if !t.starts_with("//") && t.contains("Ordering::") && !covered {
                problems.push(format!(
                    "{at}: an atomic operation with no SYNC comment before it"
                ));
            }
        }
    }
    assert!(count > 30, "only {count} SYNC comments found");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn anchors_are_computed_as_rustdoc_does() {
    assert_eq!(anchor("The bell"), "the-bell");
    assert_eq!(anchor("Who creates it"), "who-creates-it");
    assert_eq!(
        anchors("//! # Protocol\n//!\n//! ## Abort, and cancel\n"),
        ["protocol", "abort-and-cancel"]
    );
}
