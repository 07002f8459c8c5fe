//! The architecture rules of docs/architecture.md ("Rules the code keeps"), checked on the
//! source so that they cannot drift:
//!
//! 1. no file of library code over [`MAX_FILE_LINES`] lines (unit tests in a sibling `tests.rs`,
//!    and inline `#[cfg(test)]` modules, do not count; a file that is table or generated code
//!    says so with [`TABLE_MARKER`] in its first lines);
//! 2. no function over [`MAX_FN_LINES`] lines, from its `fn` line to its closing brace;
//! 3. no import cycle between the top-level modules of pip-core and of pip-comm (`crate::x`
//!    paths and `super::` paths that leave a submodule count; `#[cfg(test)]` code does not);
//! 4. every atomic operation of the protocol crates ([`PROTOCOL_CRATES`]) has a
//!    `// SYNC(<module>#<anchor>): ...` comment above it (in the same paragraph of code), and
//!    every such comment names a module whose `//!` docs have a heading with that rustdoc
//!    anchor, so a comment cannot point at protocol prose that was renamed or removed; no
//!    comment uses the old unchecked `// SYNC:` form.
//!
//! The sources are parsed with `syn` (full syntax, with line numbers from `proc-macro2`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use syn::visit::Visit;

/// The longest a file of library code may be, in lines.
const MAX_FILE_LINES: usize = 600;
/// The longest a function may be, in lines.
const MAX_FN_LINES: usize = 100;
/// Put in the first 10 lines of a file of table or generated code to exempt it from rule 1.
const TABLE_MARKER: &str = "(table code: exempt from the file-size rule)";

/// The directories of library code (crate sources), relative to the workspace root.
const LIBRARY_DIRS: &[&str] = &[
    "src",
    "pip-core/src",
    "pip-comm/src",
    "pip-tools/src",
    "pip-capi/src",
    "pip-mpi/src",
    "bench/src",
];

/// The crates whose atomics implement shared-memory protocols: each atomic operation names its
/// protocol (rule 4).
const PROTOCOL_CRATES: &[&str] = &[
    "pip-core/src",
    "pip-comm/src",
    "pip-capi/src",
    "pip-mpi/src",
];

/// The crates whose top-level modules must not import each other in a cycle.
const ACYCLIC_CRATES: &[&str] = &["pip-core/src", "pip-comm/src"];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every `.rs` file under `dir`, sorted.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// All library files, with workspace extra crates (any `*/src` of a member not listed above,
/// such as a proc-macro crate) included.
fn library_files() -> Vec<PathBuf> {
    let mut dirs: BTreeSet<PathBuf> = LIBRARY_DIRS.iter().map(|d| root().join(d)).collect();
    for e in std::fs::read_dir(root()).unwrap().flatten() {
        let src = e.path().join("src");
        if e.path().join("Cargo.toml").is_file() && src.is_dir() {
            dirs.insert(src);
        }
    }
    dirs.iter()
        .flat_map(|d| rust_files(d))
        .filter(|p| p.file_name().is_some_and(|n| n != "tests.rs"))
        .collect()
}

fn parse(path: &Path) -> (String, syn::File) {
    let text = std::fs::read_to_string(path).unwrap();
    let file = syn::parse_file(&text)
        .unwrap_or_else(|e| panic!("{}: does not parse: {e}", path.display()));
    (text, file)
}

fn rel(path: &Path) -> String {
    path.strip_prefix(root())
        .unwrap_or(path)
        .display()
        .to_string()
}

/// True if the cfg predicate `m` holds only when `test` or `loom` is set: `test`, `loom`, or
/// an `all(..)` with one of them among its terms (`not(test)` is not test-only).
fn requires_test_or_loom(m: &syn::Meta) -> bool {
    use syn::punctuated::Punctuated;
    match m {
        syn::Meta::Path(p) => p.is_ident("test") || p.is_ident("loom"),
        syn::Meta::List(l) if l.path.is_ident("all") => l
            .parse_args_with(Punctuated::<syn::Meta, syn::Token![,]>::parse_terminated)
            .is_ok_and(|terms| terms.iter().any(requires_test_or_loom)),
        _ => false,
    }
}

/// True for code compiled only for tests or for the loom models: `#[cfg(test)]`,
/// `#[cfg(all(test, ..))]`, `#[cfg(loom)]` (and not `#[cfg(not(test))]`).
fn is_cfg_test(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident("cfg")
            && a.parse_args::<syn::Meta>()
                .is_ok_and(|m| requires_test_or_loom(&m))
    })
}

fn span_lines(span: proc_macro2::Span) -> (usize, usize) {
    (span.start().line, span.end().line)
}

/// Collects function lengths and the lines of inline test modules.
#[derive(Default)]
struct Sizes {
    long_fns: Vec<(String, usize, usize)>,
    test_lines: usize,
}

impl Sizes {
    fn check_fn(&mut self, name: &syn::Ident, sig_span: proc_macro2::Span, block: &syn::Block) {
        use syn::spanned::Spanned;
        let start = sig_span.start().line;
        let end = block.span().end().line;
        let len = end + 1 - start;
        if len > MAX_FN_LINES {
            self.long_fns.push((name.to_string(), start, len));
        }
    }
}

impl<'ast> Visit<'ast> for Sizes {
    fn visit_item_mod(&mut self, m: &'ast syn::ItemMod) {
        use syn::spanned::Spanned;
        if is_cfg_test(&m.attrs) {
            if m.content.is_some() {
                let (a, b) = span_lines(m.span());
                self.test_lines += b + 1 - a;
            }
            return;
        }
        syn::visit::visit_item_mod(self, m);
    }
    fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
        if is_cfg_test(&f.attrs) {
            return;
        }
        self.check_fn(&f.sig.ident, f.sig.fn_token.span, &f.block);
        syn::visit::visit_item_fn(self, f);
    }
    fn visit_impl_item_fn(&mut self, f: &'ast syn::ImplItemFn) {
        self.check_fn(&f.sig.ident, f.sig.fn_token.span, &f.block);
        syn::visit::visit_impl_item_fn(self, f);
    }
    fn visit_trait_item_fn(&mut self, f: &'ast syn::TraitItemFn) {
        if let Some(block) = &f.default {
            self.check_fn(&f.sig.ident, f.sig.fn_token.span, block);
        }
        syn::visit::visit_trait_item_fn(self, f);
    }
}

#[test]
fn library_files_and_functions_are_small() {
    let mut problems = Vec::new();
    let files = library_files();
    assert!(files.len() > 50, "found only {} library files", files.len());
    for path in &files {
        let (text, file) = parse(path);
        let mut sizes = Sizes::default();
        sizes.visit_file(&file);
        let lines = text.lines().count() - sizes.test_lines;
        let exempt = text.lines().take(10).any(|l| l.contains(TABLE_MARKER));
        if lines > MAX_FILE_LINES && !exempt {
            problems.push(format!(
                "{}: {lines} lines of library code (at most {MAX_FILE_LINES}): split it by role",
                rel(path)
            ));
        }
        for (name, line, len) in sizes.long_fns {
            problems.push(format!(
                "{}:{line}: fn {name} is {len} lines (at most {MAX_FN_LINES})",
                rel(path)
            ));
        }
    }
    assert!(problems.is_empty(), "\n{}\n", problems.join("\n"));
}

/// The module path (from the crate root) of a source file: `a/b.rs` and `a/b/mod.rs` are
/// `["a", "b"]`; `lib.rs` and `main.rs` are `[]`.
fn module_path(src: &Path, path: &Path) -> Vec<String> {
    let rel = path.strip_prefix(src).unwrap();
    let mut parts: Vec<String> = rel
        .iter()
        .map(|s| s.to_string_lossy().into_owned())
        .collect();
    let last = parts.pop().unwrap();
    let stem = last.trim_end_matches(".rs");
    if parts.is_empty() && (stem == "lib" || stem == "main") {
        return parts;
    }
    if stem != "mod" {
        parts.push(stem.to_string());
    }
    parts
}

/// Collects the top-level modules a file refers to.
struct Refs<'a> {
    here: &'a [String],
    out: BTreeSet<String>,
}

impl Refs<'_> {
    fn resolve(&mut self, segments: &[String]) {
        let mut base: Vec<String> = match segments.first().map(String::as_str) {
            Some("crate") => Vec::new(),
            Some("super") => self.here.to_vec(),
            _ => return,
        };
        let mut rest = segments;
        if rest[0] == "crate" {
            rest = &rest[1..];
        }
        while rest.first().is_some_and(|s| s == "super") {
            base.pop();
            rest = &rest[1..];
        }
        let top = base.first().or(rest.first());
        if let Some(top) = top {
            if Some(top) != self.here.first() {
                self.out.insert(top.clone());
            }
        }
    }

    fn use_tree(&mut self, prefix: &mut Vec<String>, tree: &syn::UseTree) {
        match tree {
            syn::UseTree::Path(p) => {
                prefix.push(p.ident.to_string());
                self.use_tree(prefix, &p.tree);
                prefix.pop();
            }
            syn::UseTree::Name(n) => {
                prefix.push(n.ident.to_string());
                self.resolve(prefix);
                prefix.pop();
            }
            syn::UseTree::Rename(r) => {
                prefix.push(r.ident.to_string());
                self.resolve(prefix);
                prefix.pop();
            }
            syn::UseTree::Glob(_) => {
                prefix.push(String::from("*"));
                self.resolve(prefix);
                prefix.pop();
            }
            syn::UseTree::Group(g) => {
                for t in &g.items {
                    self.use_tree(prefix, t);
                }
            }
        }
    }
}

impl<'ast> Visit<'ast> for Refs<'_> {
    fn visit_item_mod(&mut self, m: &'ast syn::ItemMod) {
        if !is_cfg_test(&m.attrs) {
            syn::visit::visit_item_mod(self, m);
        }
    }
    fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
        if !is_cfg_test(&f.attrs) {
            syn::visit::visit_item_fn(self, f);
        }
    }
    fn visit_item_use(&mut self, u: &'ast syn::ItemUse) {
        self.use_tree(&mut Vec::new(), &u.tree);
    }
    fn visit_path(&mut self, p: &'ast syn::Path) {
        let segs: Vec<String> = p.segments.iter().map(|s| s.ident.to_string()).collect();
        self.resolve(&segs);
        syn::visit::visit_path(self, p);
    }
    fn visit_macro(&mut self, m: &'ast syn::Macro) {
        // Paths inside macro arguments (`matches!(x, crate::a::B)`): scan the tokens.
        let tokens: Vec<String> = m
            .tokens
            .clone()
            .into_iter()
            .map(|t| t.to_string())
            .collect();
        for (i, t) in tokens.iter().enumerate() {
            if (t == "crate" || t == "super") && tokens.get(i + 1).is_some_and(|c| c == ":") {
                let mut segs = vec![t.clone()];
                let mut j = i + 3;
                while let Some(s) = tokens.get(j) {
                    segs.push(s.clone());
                    if tokens.get(j + 1).is_some_and(|c| c == ":") {
                        j += 3;
                    } else {
                        break;
                    }
                }
                self.resolve(&segs);
            }
        }
        syn::visit::visit_macro(self, m);
    }
}

/// The top-level module graph of one crate: module -> modules it refers to.
fn module_graph(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for path in rust_files(src) {
        let here = module_path(src, &path);
        if here.is_empty() || here.iter().any(|s| s == "tests") {
            continue;
        }
        let (_, file) = parse(&path);
        let mut refs = Refs {
            here: &here,
            out: BTreeSet::new(),
        };
        refs.visit_file(&file);
        graph.entry(here[0].clone()).or_default().extend(refs.out);
    }
    let names: BTreeSet<String> = graph.keys().cloned().collect();
    for deps in graph.values_mut() {
        deps.retain(|d| names.contains(d));
    }
    graph
}

/// A cycle of the graph, if there is one (depth-first search with colours).
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn dfs(
        v: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        state.insert(v.to_string(), 1);
        stack.push(v.to_string());
        for w in &graph[v] {
            match state.get(w.as_str()).copied().unwrap_or(0) {
                0 => {
                    if let Some(c) = dfs(w, graph, state, stack) {
                        return Some(c);
                    }
                }
                1 => {
                    let at = stack.iter().position(|s| s == w).unwrap();
                    let mut cycle = stack[at..].to_vec();
                    cycle.push(w.clone());
                    return Some(cycle);
                }
                _ => {}
            }
        }
        stack.pop();
        state.insert(v.to_string(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for v in graph.keys() {
        if state.get(v.as_str()).copied().unwrap_or(0) == 0 {
            if let Some(c) = dfs(v, graph, &mut state, &mut Vec::new()) {
                return Some(c);
            }
        }
    }
    None
}

/// The groups of modules that all reach each other (strongly connected components with more
/// than one module), from the reachability of each module.
fn tangles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    let reach = |from: &String| {
        let mut seen = BTreeSet::new();
        let mut todo = vec![from.clone()];
        while let Some(v) = todo.pop() {
            for w in &graph[&v] {
                if seen.insert(w.clone()) {
                    todo.push(w.clone());
                }
            }
        }
        seen
    };
    let reaches: BTreeMap<&String, BTreeSet<String>> =
        graph.keys().map(|v| (v, reach(v))).collect();
    let mut out: Vec<Vec<String>> = Vec::new();
    for v in graph.keys() {
        if out.iter().any(|c| c.contains(v)) {
            continue;
        }
        let group: Vec<String> = graph
            .keys()
            .filter(|w| reaches[v].contains(*w) && reaches[w].contains(v))
            .cloned()
            .collect();
        if group.len() > 1 {
            out.push(group);
        }
    }
    out
}

#[test]
fn top_level_modules_do_not_import_each_other_in_a_cycle() {
    for krate in ACYCLIC_CRATES {
        let graph = module_graph(&root().join(krate));
        assert!(
            graph.len() > 5,
            "{krate}: found only {} modules",
            graph.len()
        );
        if let Some(cycle) = find_cycle(&graph) {
            let groups: Vec<String> = tangles(&graph).iter().map(|g| g.join(", ")).collect();
            let edges: Vec<String> = graph
                .iter()
                .map(|(m, deps)| {
                    format!(
                        "  {m} -> {}",
                        deps.iter().cloned().collect::<Vec<_>>().join(" ")
                    )
                })
                .collect();
            panic!(
                "{krate}: its top-level modules import each other in a cycle: {}\n\
                 modules that all reach each other: [{}]\n\
                 (point every edge down the layers of docs/architecture.md)\n{}",
                cycle.join(" -> "),
                groups.join("] ["),
                edges.join("\n")
            );
        }
    }
}

#[test]
fn the_cycle_finder_finds_a_cycle_and_accepts_a_layering() {
    let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    g.insert("a".into(), ["b".to_string()].into());
    g.insert("b".into(), ["c".to_string()].into());
    g.insert("c".into(), BTreeSet::new());
    assert_eq!(find_cycle(&g), None);
    g.get_mut("c").unwrap().insert("a".into());
    assert_eq!(
        find_cycle(&g),
        Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
    );
    g.insert("d".into(), ["a".to_string()].into());
    assert_eq!(
        tangles(&g),
        vec![vec!["a".to_string(), "b".into(), "c".into()]]
    );
}

/// The rustdoc anchor of a markdown heading: lower case, spaces to `-`, other punctuation
/// (but `-` and `_`) dropped.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c.to_ascii_lowercase()),
            _ => None,
        })
        .collect()
}

/// The anchors of the headings in a file's `//!` docs.
fn doc_anchors(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter_map(|l| l.trim_start().strip_prefix("//!"))
        .filter_map(|l| {
            let l = l.trim_start();
            let heading = l.trim_start_matches('#');
            (l.starts_with('#') && heading.starts_with(' ')).then(|| anchor(heading))
        })
        .collect()
}

/// The file of a module path inside a crate's `src`.
fn module_file(src: &Path, module: &str) -> Option<PathBuf> {
    if module == "crate" {
        return [src.join("lib.rs"), src.join("main.rs")]
            .into_iter()
            .find(|p| p.is_file());
    }
    let rel: PathBuf = module.split("::").collect();
    let flat = src.join(&rel).with_extension("rs");
    let nested = src.join(&rel).join("mod.rs");
    [flat, nested].into_iter().find(|p| p.is_file())
}

/// The crate `src` directory a file belongs to.
fn crate_src(path: &Path) -> PathBuf {
    let mut dir = path.parent().unwrap();
    while dir.file_name().is_some_and(|n| n != "src") {
        dir = dir.parent().unwrap();
    }
    dir.to_path_buf()
}

/// The orderings an atomic operation takes as an argument.
const ORDERINGS: &[&str] = &["Relaxed", "Acquire", "Release", "AcqRel", "SeqCst"];

/// Finds the atomic operations of a file: calls (methods or functions such as `fence`) with a
/// `Ordering::X` argument, outside test code. Records the line of each.
#[derive(Default)]
struct Atomics {
    lines: Vec<usize>,
}

fn is_ordering(e: &syn::Expr) -> bool {
    matches!(e, syn::Expr::Path(p) if p.path.segments.last()
        .is_some_and(|s| ORDERINGS.contains(&s.ident.to_string().as_str()))
    )
}

impl<'ast> Visit<'ast> for Atomics {
    fn visit_item_mod(&mut self, m: &'ast syn::ItemMod) {
        if !is_cfg_test(&m.attrs) {
            syn::visit::visit_item_mod(self, m);
        }
    }
    fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
        if !is_cfg_test(&f.attrs) {
            syn::visit::visit_item_fn(self, f);
        }
    }
    fn visit_expr_method_call(&mut self, c: &'ast syn::ExprMethodCall) {
        if c.args.iter().any(is_ordering) {
            self.lines.push(c.method.span().start().line);
        }
        syn::visit::visit_expr_method_call(self, c);
    }
    fn visit_expr_call(&mut self, c: &'ast syn::ExprCall) {
        if c.args.iter().any(is_ordering) {
            use syn::spanned::Spanned;
            self.lines.push(c.func.span().start().line);
        }
        syn::visit::visit_expr_call(self, c);
    }
}

/// True if a `// SYNC(` comment is on line `line` (1-based) or above it in the same paragraph
/// of code: a comment covers the operations that follow it up to the next blank line (a
/// group of stores under one lock, say), at most 30 lines, and never past a function's start.
fn has_sync_comment(lines: &[&str], line: usize) -> bool {
    let i = line - 1;
    if lines[i].contains("// SYNC(") {
        return true;
    }
    for j in (i.saturating_sub(30)..i).rev() {
        let t = lines[j].trim();
        if t.starts_with("// SYNC(") {
            return true;
        }
        if t.is_empty() || t.starts_with("fn ") || t.contains(" fn ") || t.starts_with("pub fn ") {
            return false;
        }
    }
    false
}

#[test]
fn every_atomic_operation_names_its_protocol() {
    let mut problems = Vec::new();
    let mut checked = 0;
    let protocol_dirs: Vec<PathBuf> = PROTOCOL_CRATES.iter().map(|d| root().join(d)).collect();
    for path in library_files() {
        if !protocol_dirs.iter().any(|d| path.starts_with(d)) {
            continue;
        }
        let (text, file) = parse(&path);
        let mut atomics = Atomics::default();
        atomics.visit_file(&file);
        let lines: Vec<&str> = text.lines().collect();
        for line in atomics.lines {
            checked += 1;
            if !has_sync_comment(&lines, line) {
                problems.push(format!(
                    "{}:{line}: an atomic operation without a `// SYNC(<module>#<anchor>): ...` \
                     comment naming its protocol",
                    rel(&path)
                ));
            }
        }
    }
    assert!(problems.is_empty(), "\n{}\n", problems.join("\n"));
    assert!(checked > 100, "found only {checked} atomic operations");
}

#[test]
fn sync_comments_point_at_protocol_prose_that_exists() {
    let mut problems = Vec::new();
    let mut checked = 0;
    for path in library_files() {
        let text = std::fs::read_to_string(&path).unwrap();
        let src = crate_src(&path);
        for (n, line) in text.lines().enumerate() {
            let doc = ["//!", "///"]
                .iter()
                .any(|d| line.trim_start().starts_with(d));
            let Some(at) = line.find("// SYNC").filter(|_| !doc) else {
                continue;
            };
            let rest = &line[at + "// SYNC".len()..];
            let where_ = format!("{}:{}", rel(&path), n + 1);
            let Some(target) = rest
                .strip_prefix('(')
                .and_then(|r| r.split_once("):"))
                .map(|(t, _)| t)
            else {
                problems.push(format!(
                    "{where_}: write `// SYNC(<module>#<anchor>): ...`, naming the protocol's prose"
                ));
                continue;
            };
            let Some((module, anchor_)) = target.split_once('#') else {
                problems.push(format!("{where_}: `{target}` has no `#<anchor>`"));
                continue;
            };
            checked += 1;
            match module_file(&src, module) {
                None => problems.push(format!("{where_}: no module `{module}` in this crate")),
                Some(file) => {
                    let anchors = doc_anchors(&std::fs::read_to_string(&file).unwrap());
                    if !anchors.contains(anchor_) {
                        problems.push(format!(
                            "{where_}: module `{module}` ({}) has no heading `#{anchor_}`; it has: {}",
                            rel(&file),
                            anchors.into_iter().collect::<Vec<_>>().join(", ")
                        ));
                    }
                }
            }
        }
    }
    assert!(problems.is_empty(), "\n{}\n", problems.join("\n"));
    assert!(checked > 30, "found only {checked} SYNC comments");
}

#[test]
fn test_only_cfgs_are_recognised() {
    let cfg = |src: &str| {
        let f: syn::ItemFn = syn::parse_str(&format!("{src} fn f() {{}}")).unwrap();
        is_cfg_test(&f.attrs)
    };
    assert!(cfg("#[cfg(test)]"));
    assert!(cfg("#[cfg(loom)]"));
    assert!(cfg("#[cfg(all(test, not(loom)))]"));
    assert!(cfg("#[cfg(all(unix, loom))]"));
    assert!(!cfg("#[cfg(not(test))]"));
    assert!(!cfg("#[cfg(not(loom))]"));
    assert!(!cfg("#[cfg(any(test, unix))]"));
    assert!(!cfg("#[inline]"));
}

#[test]
fn anchors_are_rustdoc_anchors() {
    assert_eq!(anchor(" The bell"), "the-bell");
    assert_eq!(
        anchor("Protocol (a sequence lock, one writer per slot)"),
        "protocol-a-sequence-lock-one-writer-per-slot"
    );
    let text = "//! # Protocol\n//! text\n//! ## Step 2: wake\nfn x() {}\n// # not docs\n";
    assert_eq!(
        doc_anchors(text),
        ["protocol".to_string(), "step-2-wake".to_string()].into()
    );
}
