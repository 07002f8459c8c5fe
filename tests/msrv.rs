//! The workspace's `rust-version` is true of its locked dependencies: no package that a build
//! for this platform compiles (normal and build dependencies, from Cargo.lock) declares a newer
//! `rust-version`, or an edition that needs a newer toolchain. The toolchain the tests need
//! (dev-dependencies too) is the one the README states.
//!
//! The dependencies' manifests are read from Cargo's registry sources (offline).

use std::path::{Path, PathBuf};
use std::process::Command;

/// A Rust version as (major, minor).
type Version = (u32, u32);

fn parse_version(s: &str) -> Version {
    let mut parts = s.trim().split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    (parts.next().unwrap_or(0), parts.next().unwrap_or(0))
}

/// The value of `key = "..."` on its own line in a manifest.
fn manifest_value(text: &str, key: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let rest = line
            .trim()
            .strip_prefix(key)?
            .trim_start()
            .strip_prefix('=')?;
        Some(rest.trim().trim_matches('"').to_string())
    })
}

/// The toolchain a manifest needs: its `rust-version`, or at least what its edition needs.
fn needed_by(manifest: &str) -> Version {
    let edition = match manifest_value(manifest, "edition").as_deref() {
        Some("2024") => (1, 85),
        Some("2021") => (1, 56),
        Some("2018") => (1, 31),
        _ => (1, 0),
    };
    let declared = manifest_value(manifest, "rust-version")
        .map(|v| parse_version(&v))
        .unwrap_or((1, 0));
    declared.max(edition)
}

fn workspace_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn registry_sources() -> Vec<PathBuf> {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cargo"));
    let src = home.join("registry/src");
    std::fs::read_dir(&src)
        .unwrap_or_else(|e| panic!("{}: {e} (run `cargo fetch` first)", src.display()))
        .map(|e| e.unwrap().path())
        .collect()
}

/// The registry packages (`name-version`) that `cargo tree -e EDGES` lists for this platform.
fn locked_packages(edges: &str) -> Vec<String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "tree",
            "--offline",
            "--locked",
            "--workspace",
            "--prefix",
            "none",
            "-e",
        ])
        .arg(edges)
        .current_dir(workspace_dir())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut packages: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter(|l| !l.contains("(/")) // the workspace's own packages
        .filter_map(|l| {
            let mut words = l.split_whitespace();
            let name = words.next()?;
            let version = words.next()?.strip_prefix('v')?;
            Some(format!("{name}-{version}"))
        })
        .collect();
    packages.sort();
    packages.dedup();
    packages
}

/// The newest toolchain the packages need, and the packages that need more than `limit`.
fn newest_needed(packages: &[String], limit: Version) -> (Version, Vec<String>) {
    let sources = registry_sources();
    let mut newest = (1, 0);
    let mut over = Vec::new();
    for p in packages {
        let manifest = sources
            .iter()
            .map(|s| s.join(p).join("Cargo.toml"))
            .find(|m| m.exists())
            .unwrap_or_else(|| {
                panic!("the sources of {p} are not in Cargo's registry: run `cargo fetch`")
            });
        let needs = needed_by(&std::fs::read_to_string(&manifest).unwrap());
        newest = newest.max(needs);
        if needs > limit {
            over.push(format!("{p} needs {}.{}", needs.0, needs.1));
        }
    }
    (newest, over)
}

#[test]
fn rust_version_covers_the_locked_dependencies() {
    let manifest = std::fs::read_to_string(workspace_dir().join("Cargo.toml")).unwrap();
    let declared = parse_version(&manifest_value(&manifest, "rust-version").unwrap());
    let (newest, over) = newest_needed(&locked_packages("normal,build"), declared);
    assert!(
        over.is_empty(),
        "the workspace declares rust-version {}.{}, but Cargo.lock has {}: raise rust-version \
         (Cargo.toml, [workspace.package]) or lock older versions",
        declared.0,
        declared.1,
        over.join(", ")
    );
    eprintln!(
        "the locked dependencies need Rust {}.{}",
        newest.0, newest.1
    );
}

#[test]
fn the_readme_states_the_toolchain_the_tests_need() {
    let (newest, _) = newest_needed(&locked_packages("normal,build,dev"), (u32::MAX, 0));
    let readme = std::fs::read_to_string(workspace_dir().join("README.md")).unwrap();
    let phrase = format!("the tests need Rust {}.{}", newest.0, newest.1);
    assert!(
        readme.contains(&phrase),
        "the README should say \"{phrase}\" (the newest rust-version among the dev-dependencies)"
    );
}
