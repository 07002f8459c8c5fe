//! Runs each benchmark binary added after `osu_latency` (bandwidth, multi-pair latency,
//! zero-copy, the collectives) briefly, as thread ranks and, when pip-exec is built in the
//! same target directory, as PiP tasks, and checks that the output has OSU's format. No
//! timing is asserted: only that every number is a positive two-decimal value.

use std::path::PathBuf;
use std::process::Command;

/// Checks a table: the header's start, the column line's start, one line per size with
/// `%-10d` then `%18.2f` (and with `full`, `%18.2f%18.2f%12d`).
fn check_table(out: &str, header: &str, columns: &str, sizes: &[usize], full: bool) {
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines[0].starts_with(header) && lines[0].contains("pip-rs"),
        "{out}"
    );
    assert!(lines[1].starts_with(columns), "{out}");
    assert_eq!(lines.len(), 2 + sizes.len(), "{out}");
    for (line, &size) in lines[2..].iter().zip(sizes) {
        assert_eq!(
            line.len(),
            if full { 10 + 18 * 3 + 12 } else { 28 },
            "{line:?}"
        );
        assert_eq!(
            line[..10].trim_end().parse::<usize>().unwrap(),
            size,
            "{line:?}"
        );
        let mut fields = vec![&line[10..28]];
        if full {
            fields.extend([&line[28..46], &line[46..64]]);
        }
        for f in fields {
            let v: f64 = f.trim().parse().unwrap();
            assert!(
                v >= 0.0 && f.trim().split('.').nth(1).map(str::len) == Some(2),
                "{line:?}"
            );
        }
    }
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().expect("run the benchmark");
    assert!(
        out.status.success(),
        "{cmd:?}: {:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Powers of two from `min` to `max`.
fn pow2(min: usize, max: usize) -> Vec<usize> {
    let mut v = Vec::new();
    let mut s = min;
    while s <= max {
        v.push(s);
        s *= 2;
    }
    v
}

/// pip-exec and the task directory, when built into this target directory.
fn pip_exec() -> Option<(PathBuf, PathBuf)> {
    let dir = PathBuf::from(env!("CARGO_BIN_EXE_osu_bw"))
        .parent()?
        .to_path_buf();
    let pip_exec = dir.join("pip-exec");
    let examples = dir.join("examples");
    if pip_exec.exists() && examples.join("libosu_bw.so").exists() {
        Some((pip_exec, examples))
    } else {
        eprintln!("PiP-task forms skipped: pip-exec or the task examples are not built");
        None
    }
}

const BW_ARGS: [&str; 8] = ["-m", "1:64k", "-i", "3", "-x", "1", "-W", "4"];

#[test]
fn osu_bw_and_osu_bibw() {
    let out = run(Command::new(env!("CARGO_BIN_EXE_osu_bw")).args(BW_ARGS));
    check_table(
        &out,
        "# OSU MPI Bandwidth Test v7.",
        "# Size      Bandwidth (MB/s)",
        &pow2(1, 65536),
        false,
    );
    let out = run(Command::new(env!("CARGO_BIN_EXE_osu_bibw")).args(BW_ARGS));
    check_table(
        &out,
        "# OSU MPI Bi-Directional Bandwidth Test v7.",
        "# Size      Bandwidth (MB/s)",
        &pow2(1, 65536),
        false,
    );
    let bad = Command::new(env!("CARGO_BIN_EXE_osu_bw"))
        .args(["-W", "0"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("-W 0"));
}

#[test]
fn osu_multi_lat_with_two_pairs() {
    let out = run(Command::new(env!("CARGO_BIN_EXE_osu_multi_lat"))
        .args(["-n", "4", "-m", "0:1k", "-i", "10", "-x", "1", "-f"]));
    assert!(out.contains("over 4 thread ranks"), "{out}");
    let sizes: Vec<usize> = std::iter::once(0).chain(pow2(1, 1024)).collect();
    check_table(
        &out,
        "# OSU MPI Multi Latency Test v7.",
        "# Size          Latency (us)  Min Latency (us)  Max Latency (us)",
        &sizes,
        true,
    );
    let odd = Command::new(env!("CARGO_BIN_EXE_osu_multi_lat"))
        .args(["-n", "3"])
        .output()
        .unwrap();
    assert_eq!(odd.status.code(), Some(1));
}

#[test]
fn zerocopy_moves_up_to_64_mib() {
    let out = run(Command::new(env!("CARGO_BIN_EXE_zerocopy")).args(["-i", "10", "-x", "1"]));
    assert!(out.lines().next().unwrap().contains("send_vec"), "{out}");
    check_table(
        &out,
        "# OSU MPI Latency Test v7.",
        "# Size          Latency (us)",
        &pow2(1, 64 << 20),
        false,
    );
}

#[test]
fn collectives_print_one_line_per_size() {
    let cases = [
        (env!("CARGO_BIN_EXE_osu_bcast"), "Broadcast Latency Test"),
        (env!("CARGO_BIN_EXE_osu_reduce"), "Reduce Latency Test"),
        (
            env!("CARGO_BIN_EXE_osu_allreduce"),
            "Allreduce Latency Test",
        ),
        (env!("CARGO_BIN_EXE_osu_gather"), "Gather Latency Test"),
        (env!("CARGO_BIN_EXE_osu_scatter"), "Scatter Latency Test"),
        (
            env!("CARGO_BIN_EXE_osu_allgather"),
            "Allgather Latency Test",
        ),
        (
            env!("CARGO_BIN_EXE_osu_alltoall"),
            "All-to-All Personalized",
        ),
    ];
    for (exe, title) in cases {
        let out =
            run(Command::new(exe).args(["-n", "3", "-m", "1:4k", "-i", "5", "-x", "1", "-f"]));
        assert!(out.contains("over 3 thread ranks"), "{out}");
        check_table(
            &out,
            &format!("# OSU MPI {title}"),
            "# Size       Avg Latency(us)   Min Latency(us)   Max Latency(us)  Iterations",
            &pow2(1, 4096),
            true,
        );
    }
}

#[test]
fn pip_task_forms_when_pip_exec_is_built() {
    let Some((pip_exec, examples)) = pip_exec() else {
        return;
    };
    let task = |name: &str| examples.join(format!("lib{name}.so"));
    let out = run(Command::new(&pip_exec)
        .args(["-n", "2"])
        .arg(task("osu_bw"))
        .args(BW_ARGS));
    assert!(out.contains("PiP tasks"), "{out}");
    check_table(
        &out,
        "# OSU MPI Bandwidth Test v7.",
        "# Size      Bandwidth (MB/s)",
        &pow2(1, 65536),
        false,
    );
    let out = run(Command::new(&pip_exec)
        .args(["-n", "2"])
        .arg(task("zerocopy"))
        .args(["-m", "1m:64m", "-i", "10", "-x", "1"]));
    check_table(
        &out,
        "# OSU MPI Latency Test v7.",
        "# Size          Latency (us)",
        &pow2(1 << 20, 64 << 20),
        false,
    );
    let out = run(Command::new(&pip_exec)
        .args(["-n", "3"])
        .arg(task("osu_allreduce"))
        .args(["-m", "1:1k", "-i", "5", "-x", "1"]));
    assert!(out.contains("over 3 PiP tasks"), "{out}");
    check_table(
        &out,
        "# OSU MPI Allreduce Latency Test v7.",
        "# Size       Avg Latency(us)",
        &pow2(1, 1024),
        false,
    );
    // Namespace isolation: each task has its own malloc, so send_vec is refused, clearly.
    let ns = Command::new(&pip_exec)
        .args(["-n", "2", "--isolation", "namespace"])
        .arg(task("zerocopy"))
        .args(["-m", "1k:1k", "-i", "2", "-x", "0"])
        .output()
        .unwrap();
    assert!(!ns.status.success());
    assert!(
        String::from_utf8_lossy(&ns.stderr).contains("send_vec"),
        "{}",
        String::from_utf8_lossy(&ns.stderr)
    );
}

#[test]
fn imbalance_prints_both_patterns_per_size() {
    let out = run(Command::new(env!("CARGO_BIN_EXE_imbalance")).args([
        "-m",
        "256k:512k",
        "-i",
        "4",
        "-x",
        "1",
    ]));
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines[0].starts_with("# OSU MPI Imbalance Test") && lines[0].contains("pip-rs"),
        "{out}"
    );
    assert_eq!(
        lines[1], "# Size         Pattern        Off (us)         On (us)   Speedup    Stolen",
        "{out}"
    );
    assert_eq!(lines.len(), 2 + 4, "{out}");
    let expected = [
        (262144, "imbalanced"),
        (262144, "balanced"),
        (524288, "imbalanced"),
        (524288, "balanced"),
    ];
    for (line, (size, pattern)) in lines[2..].iter().zip(expected) {
        let f: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(
            (f[0].parse::<usize>().unwrap(), f[1]),
            (size, pattern),
            "{line:?}"
        );
        for v in &f[2..5] {
            assert!(v.parse::<f64>().unwrap() > 0.0, "{line:?}");
        }
        assert!(f[5].ends_with('%'), "{line:?}");
    }
}
