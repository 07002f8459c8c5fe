//! Runs `osu_latency` briefly and checks that its output has OSU's format.

use std::path::PathBuf;
use std::process::Command;

/// Checks an `osu_latency` table: the header, the column line, one line per size.
fn check_table(out: &str, sizes: &[usize], full: bool) {
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines[0].starts_with("# OSU MPI Latency Test v7.") && lines[0].contains("pip-rs"),
        "{out}"
    );
    if full {
        assert!(
            lines[1]
                .starts_with("# Size          Latency (us)  Min Latency (us)  Max Latency (us)"),
            "{out}"
        );
    } else {
        assert_eq!(lines[1], "# Size          Latency (us)");
    }
    assert_eq!(lines.len(), 2 + sizes.len(), "{out}");
    for (line, &size) in lines[2..].iter().zip(sizes) {
        // `%-10d%18.2f`, then with -f `%18.2f%18.2f%12d`.
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
        let latency: f64 = line[10..28].trim().parse().unwrap();
        assert!(
            latency >= 0.0 && line[10..28].trim().split('.').nth(1).unwrap().len() == 2,
            "{line:?}"
        );
        if full {
            let min: f64 = line[28..46].trim().parse().unwrap();
            let max: f64 = line[46..64].trim().parse().unwrap();
            assert!(min <= max, "{line:?}");
            assert_eq!(line[64..].trim(), "20");
        }
    }
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().expect("run osu_latency");
    assert!(
        out.status.success(),
        "{:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn thread_ranks_print_the_osu_table() {
    let exe = env!("CARGO_BIN_EXE_osu_latency");
    let out = run(Command::new(exe).args(["-m", "0:4096", "-i", "20", "-x", "2"]));
    check_table(
        &out,
        &[0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096],
        false,
    );
    let out = run(Command::new(exe).args(["-m", "512k:1m", "-i", "20", "-x", "1", "-f"]));
    check_table(&out, &[512 << 10, 1 << 20], true);
}

#[test]
fn bad_options_are_refused_and_help_works() {
    let exe = env!("CARGO_BIN_EXE_osu_latency");
    let out = Command::new(exe).args(["-m", "9:3"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("-m 9:3"));
    let out = Command::new(exe).arg("-h").output().unwrap();
    assert!(
        out.status.success()
            && String::from_utf8_lossy(&out.stdout).starts_with("Usage: osu_latency")
    );
}

/// The PiP-task form, when pip-exec has been built into the same target directory
/// (`cargo build -p pip-tools`); skipped otherwise.
#[test]
fn pip_tasks_print_the_osu_table_when_pip_exec_is_built() {
    let dir = PathBuf::from(env!("CARGO_BIN_EXE_osu_latency"))
        .parent()
        .unwrap()
        .to_path_buf();
    let (pip_exec, task) = (dir.join("pip-exec"), dir.join("examples/libosu_latency.so"));
    if !pip_exec.exists() || !task.exists() {
        eprintln!(
            "skipped: {} or {} is missing",
            pip_exec.display(),
            task.display()
        );
        return;
    }
    let out = run(Command::new(pip_exec)
        .args(["-n", "2"])
        .arg(task)
        .args(["-m", "0:64k", "-i", "20", "-x", "2"]));
    assert!(out.contains("PiP tasks"), "{out}");
    let sizes: Vec<usize> = std::iter::once(0).chain((0..=16).map(|i| 1 << i)).collect();
    check_table(&out, &sizes, false);
}

#[test]
fn osu_barrier_prints_one_line_for_any_rank_count() {
    let exe = env!("CARGO_BIN_EXE_osu_barrier");
    for ranks in ["1", "3", "6"] {
        let out = run(Command::new(exe).args(["--ranks", ranks, "-i", "50", "-x", "5", "-f"]));
        let lines: Vec<&str> = out.lines().collect();
        assert!(
            lines[0].starts_with("# OSU MPI Barrier Latency Test v7.") && lines[0].contains(ranks),
            "{out}"
        );
        assert!(
            lines[1].starts_with("# Size       Avg Latency(us)   Min Latency(us)"),
            "{out}"
        );
        assert_eq!(lines.len(), 3, "{out}");
        let f: Vec<&str> = lines[2].split_whitespace().collect();
        assert_eq!((f[0], f[4]), ("0", "50"), "{out}");
        let (avg, min, max): (f64, f64, f64) = (
            f[1].parse().unwrap(),
            f[2].parse().unwrap(),
            f[3].parse().unwrap(),
        );
        assert!(min <= avg && avg <= max, "{out}");
    }
}
