//! What a user installs and reads: `scripts/install` into a prefix and back out, the man pages,
//! completions and `pip.pc` it lays out, `pip-exec --help` naming every `PIP_*` variable a job
//! reads, and `pips-bench` (an example, not an installed tool) printing its help.
//!
//! The install runs from the tree already built (`--from`), so nothing is rebuilt here.
mod common;
mod support;

use common::target_dir;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use support::*;

/// The tools of pip-tools that `scripts/install` installs.
const TOOLS: [&str; 5] = ["pip-exec", "pips", "pip-check", "pip-mode", "printpipmode"];

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Every file under `dir`, relative to it.
fn files_under(dir: &Path) -> BTreeSet<String> {
    fn walk(base: &Path, dir: &Path, out: &mut BTreeSet<String>) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(base, &p, out);
            } else {
                out.insert(p.strip_prefix(base).unwrap().display().to_string());
            }
        }
    }
    let mut out = BTreeSet::new();
    walk(dir, dir, &mut out);
    out
}

/// The files an install must lay out (man pages of pips' subcommands included).
fn expected_files() -> BTreeSet<String> {
    let mut want: Vec<String> = [
        "bin/pipcc",
        "bin/pipfc",
        "lib/libpip.so",
        "lib/pkgconfig/pip.pc",
        "include/pip/pip.h",
        "include/pip/pip_clone.h",
        "include/pip/pip_machdep.h",
        "include/pip/pip_dlfcn.h",
        "share/man/man1/pipcc.1",
        "share/man/man1/pipfc.1",
        "share/pip-rs/install-manifest",
    ]
    .map(String::from)
    .to_vec();
    for t in TOOLS {
        want.push(format!("bin/{t}"));
        want.push(format!("share/man/man1/{t}.1"));
        want.push(format!("share/bash-completion/completions/{t}"));
        want.push(format!("share/zsh/site-functions/_{t}"));
        want.push(format!("share/fish/vendor_completions.d/{t}.fish"));
    }
    for sub in ["kill", "fds", "signals", "waits", "serve"] {
        want.push(format!("share/man/man1/pips-{sub}.1"));
    }
    want.into_iter().collect()
}

fn install(args: &[&Path]) -> Output {
    run(Command::new(repo().join("scripts/install")).args(args))
}

/// Runs `pkg-config ARGS pip` with the prefix's pip.pc, and returns its output words.
fn pkg_config(prefix: &Path, what: &str) -> Vec<String> {
    let out = run(Command::new("pkg-config")
        .arg(what)
        .arg("pip")
        .env("PKG_CONFIG_PATH", prefix.join("lib/pkgconfig")));
    assert_eq!(out.code, Some(0), "pkg-config {what} pip: {}", out.both());
    out.stdout.split_whitespace().map(String::from).collect()
}

/// Checks the page with groff's warnings on (run from the man directory, so `.so` includes
/// resolve as man resolves them).
fn assert_valid_roff(man_dir: &Path, page: &str) {
    let out = run(Command::new("groff")
        .args(["-man", "-z", "-ww"])
        .arg(page)
        .current_dir(man_dir));
    assert!(
        out.code == Some(0) && out.stderr.is_empty(),
        "groff on {page}: {}",
        out.both()
    );
}

/// `scripts/install --from DIR PREFIX` lays out every file (and lists them all in its
/// manifest); a C program builds with `pkg-config --cflags --libs pip` and runs with no
/// `LD_LIBRARY_PATH`; the installed pip-exec runs; every man page is valid roff; and
/// `--uninstall` leaves the prefix empty, also after installing twice.
#[test]
fn install_lays_out_everything_and_uninstall_removes_exactly_it() {
    let scratch = Scratch::new("install");
    let prefix = scratch.path("prefix");
    std::fs::create_dir(&prefix).unwrap();
    let from = target_dir();
    for _ in 0..2 {
        let out = install(&[Path::new("--from"), &from, &prefix]);
        assert_eq!(out.code, Some(0), "{}", out.both());
    }
    let prefix = prefix.canonicalize().unwrap();
    let installed = files_under(&prefix);
    assert_eq!(installed, expected_files(), "installed files");
    let manifest = std::fs::read_to_string(prefix.join("share/pip-rs/install-manifest")).unwrap();
    let listed: BTreeSet<String> = manifest.lines().map(String::from).collect();
    let mut others = installed.clone();
    others.remove("share/pip-rs/install-manifest");
    assert_eq!(
        listed, others,
        "the manifest lists every other installed file"
    );
    assert!(
        !installed.contains("bin/pips-bench"),
        "a benchmark is not a tool"
    );

    // pkg-config gives the include directory, the library and an rpath to it.
    let cflags = pkg_config(&prefix, "--cflags");
    let libs = pkg_config(&prefix, "--libs");
    let lib = prefix.join("lib");
    assert!(
        cflags.contains(&format!("-I{}", prefix.join("include").display())),
        "{cflags:?}"
    );
    for want in [
        format!("-L{}", lib.display()),
        format!("-Wl,-rpath,{}", lib.display()),
        "-lpip".to_string(),
    ] {
        assert!(libs.contains(&want), "no {want} in {libs:?}");
    }
    let src = "#include <pip/pip.h>\n#include <stdio.h>\nint main(void) { printf(\"initialized %d\\n\", pip_is_initialized()); return 0; }\n";
    // As a makefile does: `cc $(pkg-config --cflags pip) -o prog prog.c $(pkg-config --libs pip)`.
    let c = scratch.path("uses_pip.c");
    std::fs::write(&c, src).unwrap();
    let prog = scratch.path("uses_pip");
    let out = run(Command::new("cc")
        .args(&cflags)
        .arg("-o")
        .arg(&prog)
        .arg(&c)
        .args(&libs));
    assert_eq!(
        out.code,
        Some(0),
        "cc with pkg-config's flags: {}",
        out.both()
    );
    let out = run(Command::new(&prog).env_remove("LD_LIBRARY_PATH"));
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (Some(0), "initialized 0\n"),
        "{}",
        out.both()
    );

    // The installed tools run, and pip-exec's help lists the environment.
    let out = run(Command::new(prefix.join("bin/pip-exec")).arg("--help"));
    assert_eq!(out.code, Some(0), "{}", out.both());
    assert!(out.stdout.contains("PIP_WAIT_BOARD"), "{}", out.both());
    let out = run(Command::new(prefix.join("bin/pipcc")).arg("--where"));
    assert!(out.stdout.contains(lib.to_str().unwrap()), "{}", out.both());

    // Man pages: valid roff, the generated ones describe the tool's options.
    let man = prefix.join("share/man");
    for f in installed
        .iter()
        .filter(|f| f.starts_with("share/man/man1/"))
    {
        assert_valid_roff(&man, f.strip_prefix("share/man/").unwrap());
    }
    let page = std::fs::read_to_string(man.join("man1/pip-exec.1")).unwrap();
    assert!(
        page.contains("isolation") && page.contains("PIP_STACKSIZE"),
        "{page}"
    );
    let bash =
        std::fs::read_to_string(prefix.join("share/bash-completion/completions/pips")).unwrap();
    assert!(
        bash.contains("signals") && bash.contains("--json"),
        "{bash}"
    );

    let out = install(&[Path::new("--uninstall"), &prefix]);
    assert_eq!(out.code, Some(0), "{}", out.both());
    let left: Vec<PathBuf> = std::fs::read_dir(&prefix)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert!(left.is_empty(), "left after uninstall: {left:?}");
    // A second uninstall says there is nothing to remove.
    let out = install(&[Path::new("--uninstall"), &prefix]);
    assert_eq!(out.code, Some(1), "{}", out.both());
    assert!(
        out.stderr.contains("install-manifest is missing"),
        "{}",
        out.both()
    );
}

/// An uninstall removes only what the manifest lists: a file of the user's in the same
/// directories stays, and so do its directories.
#[test]
fn uninstall_keeps_files_it_did_not_install() {
    let scratch = Scratch::new("install-keep");
    let prefix = scratch.path("prefix");
    let out = install(&[Path::new("--from"), &target_dir(), &prefix]);
    assert_eq!(out.code, Some(0), "{}", out.both());
    std::fs::write(prefix.join("bin/mine"), "x").unwrap();
    let out = install(&[Path::new("--uninstall"), &prefix]);
    assert_eq!(out.code, Some(0), "{}", out.both());
    assert_eq!(
        files_under(&prefix),
        BTreeSet::from(["bin/mine".to_string()])
    );
}

/// Each tool writes its man pages and completions from its own command-line definition, and
/// refuses a shell it does not know.
#[test]
fn tools_generate_man_pages_and_completions() {
    let scratch = Scratch::new("generate");
    for t in TOOLS {
        let out = run(Command::new(tool(t)).arg("--generate-man").arg(&scratch.0));
        assert_eq!(out.code, Some(0), "{t}: {}", out.both());
        let page = std::fs::read_to_string(scratch.path(&format!("{t}.1"))).unwrap();
        assert!(page.starts_with(".ie"), "{t}: {page}");
        assert!(page.contains(&format!(".TH {t} 1")), "{t}: {page}");
        for shell in ["bash", "zsh", "fish"] {
            let out = run_tool(t, ["--generate-completions", shell]);
            assert_eq!(out.code, Some(0), "{t} {shell}: {}", out.both());
            assert!(out.stdout.contains(t), "{t} {shell}: {}", out.both());
        }
    }
    assert!(scratch.path("pips-waits.1").exists());
    let out = run_tool("pip-exec", ["--generate-completions", "tcsh"]);
    assert_eq!(out.code, Some(2), "{}", out.both());
    assert!(
        out.stderr.contains("unknown shell `tcsh`"),
        "{}",
        out.both()
    );
}

/// The `PIP_*` variables named in string literals of the code that runs in pip-exec's process:
/// pip-core (the root and tasks) and pip-comm (tasks that use it). Comment lines (doc examples)
/// are skipped.
fn pip_variables_in_sources() -> BTreeSet<String> {
    fn scan(dir: &Path, out: &mut BTreeSet<String>) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                scan(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let text = std::fs::read_to_string(&p).unwrap();
                for line in text.lines().filter(|l| !l.trim_start().starts_with("//")) {
                    for (i, _) in line.match_indices("\"PIP_") {
                        let name: String = line[i + 1..]
                            .chars()
                            .take_while(|c| {
                                c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_'
                            })
                            .collect();
                        if line[i + 1 + name.len()..].starts_with('"') {
                            out.insert(name);
                        }
                    }
                }
            }
        }
    }
    let mut out = BTreeSet::new();
    for krate in ["pip-core/src", "pip-comm/src"] {
        scan(&repo().join(krate), &mut out);
    }
    out
}

/// `pip-exec --help` names every `PIP_*` variable that pip-core and pip-comm read, so a user
/// can learn them all in one place. Only pip-core's internal marker of a re-executed pip-exec
/// (set by pip-exec itself) is left out.
#[test]
fn pip_exec_help_lists_every_pip_variable_a_job_reads() {
    let internal = ["PIP_RS_REEXECED"];
    let vars = pip_variables_in_sources();
    for v in [
        "PIP_MODE",
        "PIP_FULL_IMAGE",
        "PIP_WAIT_BOARD",
        "PIP_COMM_WATCHDOG",
    ] {
        assert!(vars.contains(v), "the source scan missed {v}: {vars:?}");
    }
    let help = run_tool("pip-exec", ["--help"]);
    assert_eq!(help.code, Some(0), "{}", help.both());
    let missing: Vec<&String> = vars
        .iter()
        .filter(|v| !internal.contains(&v.as_str()))
        .filter(|v| {
            !help
                .stdout
                .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .any(|w| w == v.as_str())
        })
        .collect();
    assert!(
        missing.is_empty(),
        "pip-exec --help does not name {missing:?}: add them to its Environment section"
    );
}

/// `pips-bench --help` prints help (it used to start the benchmark), and `cargo install --path
/// pip-tools` does not install it: it is an example, not a binary of pip-tools.
#[test]
fn pips_bench_is_an_example_that_prints_help() {
    let bench = target_dir().join("examples/pips-bench");
    assert!(
        bench.exists(),
        "{} is missing: build the examples first (`cargo build --workspace --examples`)",
        bench.display()
    );
    let out = run(Command::new(&bench).arg("--help"));
    assert_eq!(out.code, Some(0), "{}", out.both());
    assert!(out.stdout.contains("Usage: pips-bench"), "{}", out.both());
    assert!(
        !out.stdout.contains("# pips fds snapshot"),
        "{}",
        out.both()
    );
    // Not a binary of pip-tools: none of that name is declared, and src/bin (found
    // automatically) has none.
    let manifest = std::fs::read_to_string(repo().join("pip-tools/Cargo.toml")).unwrap();
    assert!(!manifest.contains("src/bin/pips-bench.rs"), "{manifest}");
    assert!(!repo().join("pip-tools/src/bin/pips-bench.rs").exists());
}
