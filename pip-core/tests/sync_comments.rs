//! Every atomic operation of pip-core (but the wait board, `waits/`, and `elf.rs`) and of libpip
//! (pip-capi) names the protocol it belongs to, in a comment
//! `// SYNC(<module path>#<anchor>): <what it pairs with>` just above it, and every such
//! comment resolves: `<module path>` is a module of the crate (`crate` for lib.rs) whose `//!`
//! docs have a heading with that rustdoc anchor. So the code points to its protocol prose, and
//! a protocol section renamed or removed without its comments fails here.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The atomic operations looked for (a method call with an `Ordering` argument, or a fence).
const OPS: [&str; 8] = [
    ".load(",
    ".store(",
    ".fetch_",
    ".compare_exchange(",
    ".compare_exchange_weak(",
    ".swap(",
    "fence(",
    ".fetch_update(",
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The rustdoc anchor of a heading: lowercase, spaces to `-`, punctuation dropped.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_'))
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// The anchors of the headings in a file's `//!` docs.
fn anchors(file: &Path) -> BTreeSet<String> {
    let text = std::fs::read_to_string(file).unwrap();
    let mut in_code = false;
    let mut out = BTreeSet::new();
    for line in text.lines() {
        let Some(doc) = line.trim_start().strip_prefix("//!") else {
            continue;
        };
        let doc = doc.trim_start();
        if doc.starts_with("```") {
            in_code = !in_code;
        } else if !in_code && doc.starts_with('#') {
            out.insert(anchor(doc.trim_start_matches('#')));
        }
    }
    out
}

/// The file of module `path` (`a::b`) of the crate whose sources are in `src`.
fn module_file(src: &Path, path: &str) -> Option<PathBuf> {
    if path == "crate" {
        return Some(src.join("lib.rs"));
    }
    let base = path
        .split("::")
        .fold(src.to_path_buf(), |p, part| p.join(part));
    [base.with_extension("rs"), base.join("mod.rs")]
        .into_iter()
        .find(|p| p.exists())
}

/// The library code of a file: up to its first test module.
fn library_lines(text: &str) -> Vec<&str> {
    text.lines()
        .take_while(|l| !l.starts_with("#[cfg(test)]") && !l.starts_with("#[cfg(all(test"))
        .collect()
}

fn is_atomic_op(lines: &[&str], i: usize) -> bool {
    let line = lines[i];
    if line.trim_start().starts_with("//") || !OPS.iter().any(|op| line.contains(op)) {
        return false;
    }
    lines[i..lines.len().min(i + 5)]
        .iter()
        .any(|l| l.contains("Ordering::"))
}

/// True if a `SYNC(` comment precedes line `i` within its statement.
fn has_sync_comment(lines: &[&str], i: usize) -> bool {
    if lines[i].contains("SYNC(") {
        return true;
    }
    for j in (i.saturating_sub(8)..i).rev() {
        let t = lines[j].trim();
        if t.contains("SYNC(") {
            return true;
        }
        if !t.starts_with("//") && (t.ends_with(';') || t.ends_with('{') || t.ends_with('}')) {
            return false;
        }
    }
    false
}

fn check_crate(src: &Path, skip: &[&str], problems: &mut Vec<String>) {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    for file in files {
        let rel = file
            .strip_prefix(src)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        if rel.ends_with("tests.rs") || skip.iter().any(|s| rel.starts_with(s)) {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        let lines = library_lines(&text);
        for (i, line) in lines.iter().enumerate() {
            if let Some(rest) = line.trim_start().strip_prefix("// SYNC(") {
                let target = rest.split(')').next().unwrap_or("");
                match target.split_once('#') {
                    Some((module, a)) => match module_file(src, module) {
                        Some(m) if anchors(&m).contains(a) => {}
                        Some(m) => problems.push(format!(
                            "{rel}:{}: SYNC({target}): no heading with anchor `{a}` in {}",
                            i + 1,
                            m.display()
                        )),
                        None => problems.push(format!(
                            "{rel}:{}: SYNC({target}): no module `{module}`",
                            i + 1
                        )),
                    },
                    None => problems.push(format!(
                        "{rel}:{}: a SYNC comment without `module#anchor`",
                        i + 1
                    )),
                }
            }
            if is_atomic_op(&lines, i) && !has_sync_comment(&lines, i) {
                problems.push(format!(
                    "{rel}:{}: an atomic operation without a SYNC comment: {}",
                    i + 1,
                    line.trim()
                ));
            }
        }
    }
}

#[test]
fn every_atomic_names_its_protocol_and_every_sync_comment_resolves() {
    let core = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let capi = Path::new(env!("CARGO_MANIFEST_DIR")).join("../pip-capi/src");
    let mut problems = Vec::new();
    check_crate(&core, &["waits/", "elf.rs"], &mut problems);
    check_crate(&capi, &["bin/"], &mut problems);
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

#[test]
fn anchors_follow_rustdoc() {
    assert_eq!(
        anchor(" Life of a task (thread mode)"),
        "life-of-a-task-thread-mode"
    );
    assert_eq!(anchor("Protocol"), "protocol");
}
