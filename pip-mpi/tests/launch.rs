//! mpiexec: rank counts, the private libc per rank of small jobs (programs that parse their
//! arguments with getopt, as the OSU benchmarks do), and the conformance programs under
//! namespace isolation.

mod support;
use std::process::Command;
use support::{build, run_command, tool, Library, Mode};

const ARGS: [&str; 6] = ["-i", "7", "-x", "3", "-m", "1:4096"];

#[test]
fn ranks_parsing_options_with_getopt_agree_under_mpiexec() {
    let prog = build("options", Library::PipRs);
    for (n, mode) in [
        (2, Mode::Thread),
        (4, Mode::Thread),
        (4, Mode::Process),
        (7, Mode::Thread),
    ] {
        let mut c = Command::new(tool("mpiexec"));
        c.arg("-np").arg(n.to_string());
        if mode == Mode::Process {
            c.args(["--mode", "process"]);
        }
        c.arg(&prog).args(ARGS);
        run_command(&mut c).assert_pass("options", n, &format!("mpiexec -np {n}, {mode:?} mode"));
    }
}

#[test]
fn the_option_parsing_program_passes_with_mpich_and_open_mpi() {
    for mpi in [Library::Mpich, Library::OpenMpi] {
        if !mpi.available() {
            continue;
        }
        let prog = build("options", mpi);
        support::run(mpi, &prog, 4, Mode::Thread, &ARGS).assert_pass(
            "options",
            4,
            &format!("{mpi:?}"),
        );
    }
}

#[test]
fn conformance_programs_pass_under_namespace_isolation() {
    for name in ["p2p", "coll", "rma"] {
        let prog = build(name, Library::PipRs);
        for mode in [Mode::Thread, Mode::Process] {
            let mut c = support::launcher(Library::PipRs, 4, mode);
            c.args(["--isolation", "namespace"]).arg(&prog);
            run_command(&mut c).assert_pass(
                name,
                4,
                &format!("namespace isolation, {mode:?} mode"),
            );
        }
    }
}
