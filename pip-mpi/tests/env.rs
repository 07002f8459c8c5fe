//! The environment family: versions, time, names, thread level, attributes, info objects,
//! error strings and handlers; a program started without pip-exec (a singleton world);
//! MPI_Abort and MPI_ERRORS_ARE_FATAL ending the whole job.

mod support;
use std::process::Command;
use std::time::{Duration, Instant};
use support::{build, conformance, reference, run, run_command, Library, Mode, MODES};

#[test]
fn env_runs_with_every_rank_count_in_both_modes() {
    conformance("env");
}

#[test]
fn env_passes_with_mpich_and_open_mpi() {
    reference("env", Library::Mpich, &[1, 2, 4]);
    reference("env", Library::OpenMpi, &[1, 2, 4]);
}

#[test]
fn errhandler_runs_with_every_rank_count_in_both_modes() {
    conformance("errhandler");
}

#[test]
fn errhandler_passes_with_mpich_and_open_mpi() {
    reference("errhandler", Library::Mpich, &[1, 2, 4]);
    reference("errhandler", Library::OpenMpi, &[1, 2, 4]);
}

#[test]
fn a_program_started_on_its_own_is_a_singleton_world() {
    let prog = build("env", Library::PipRs);
    let out = run_command(&mut Command::new(&prog));
    out.assert_pass("env", 1, "env started without pip-exec");
}

#[test]
fn copies_started_by_another_mpis_launcher_are_refused() {
    let prog = build("env", Library::PipRs);
    let out = run_command(
        Command::new(&prog)
            .env("OMPI_COMM_WORLD_SIZE", "3")
            .env("OMPI_COMM_WORLD_RANK", "2"),
    );
    assert_ne!(out.code, Some(0), "{}", out.all());
    assert!(
        out.stderr
            .contains("process 2 of 3 started by an MPI launcher")
            && out.stderr.contains("pip-rs's mpiexec"),
        "the refusal should say what started it and how to start it\n{}",
        out.all()
    );
    // A launcher that started one copy: a singleton world as usual.
    let out = run_command(Command::new(&prog).env("PMI_SIZE", "1"));
    out.assert_pass("env", 1, "env started by a launcher as its only process");
}

/// How long a job that ends itself may take: far below the hang limit and the deadlock
/// watchdog (30 s in the tests), so a job that only ended through them fails.
const QUICK: Duration = Duration::from_secs(15);

#[test]
fn mpi_abort_ends_the_job_with_its_code_in_both_modes() {
    let prog = build("abort", Library::PipRs);
    for mode in MODES {
        let start = Instant::now();
        let out = run(Library::PipRs, &prog, 3, mode, &[]);
        let took = start.elapsed();
        let what = format!("MPI_Abort in {mode:?} mode");
        assert_eq!(out.code, Some(7), "{what}: exit code\n{}", out.all());
        assert!(
            out.stderr.contains("MPI_Abort called by rank 1")
                && out.stderr.contains("error code 7"),
            "{what}: the message should name rank 1 and code 7\n{}",
            out.all()
        );
        assert!(
            out.stdout.contains("rank 1 started\n"),
            "{what}: rank 1's output was lost\n{}",
            out.all()
        );
        assert!(
            !out.stdout.contains("PASS") && !out.stdout.contains("returned"),
            "{what}\n{}",
            out.all()
        );
        assert!(took < QUICK, "{what}: the job took {took:?}\n{}", out.all());
    }
}

#[test]
fn mpi_abort_ends_the_job_with_mpich_and_open_mpi() {
    for mpi in [Library::Mpich, Library::OpenMpi] {
        if mpi.available() {
            let out = run(mpi, &build("abort", mpi), 3, Mode::Thread, &[]);
            assert!(
                out.code != Some(0) && !out.stdout.contains("PASS"),
                "{mpi:?}\n{}",
                out.all()
            );
        }
    }
}

#[test]
fn an_error_under_errors_are_fatal_ends_the_job_naming_function_and_rank() {
    let prog = build("fatal", Library::PipRs);
    for mode in MODES {
        let start = Instant::now();
        let out = run(Library::PipRs, &prog, 3, mode, &[]);
        let took = start.elapsed();
        let what = format!("fatal error in {mode:?} mode");
        // The exit code is the error class, MPI_ERR_RANK.
        assert_eq!(out.code, Some(6), "{what}: exit code\n{}", out.all());
        assert!(
            out.stderr.contains("MPI_Group_incl on rank 1") && out.stderr.contains("MPI_ERR_RANK"),
            "{what}: the message should name the function, the rank and the class\n{}",
            out.all()
        );
        assert!(
            !out.stdout.contains("PASS") && !out.stdout.contains("returned"),
            "{what}\n{}",
            out.all()
        );
        assert!(took < QUICK, "{what}: the job took {took:?}\n{}", out.all());
    }
}

#[test]
fn an_error_under_errors_are_fatal_ends_the_job_with_mpich_and_open_mpi() {
    for mpi in [Library::Mpich, Library::OpenMpi] {
        if mpi.available() {
            let out = run(mpi, &build("fatal", mpi), 3, Mode::Thread, &[]);
            assert!(
                out.code != Some(0) && !out.stdout.contains("PASS"),
                "{mpi:?}\n{}",
                out.all()
            );
        }
    }
}
