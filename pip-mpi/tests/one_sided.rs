//! One-sided communication (windows): the C programs of tests/c/ with pip-rs, MPICH and Open
//! MPI.
//!
//! `rma` uses window functions only (fences stand in for barriers), so it runs under pip-rs
//! with every rank count in both modes. Open MPI 4.1 cannot make a window on a single rank
//! with the shared-memory transports the harness selects (its default one-sided component
//! fails in `MPI_Win_create`), so its reference runs start at two ranks.
//!
//! `rma_more` needs groups (`MPI_Comm_group`, `MPI_Group_incl`) for post/start, and
//! `MPI_Get_address` and `MPI_Type_vector`: its pip-rs run waits for those functions (and for
//! `MPI_Win_post`/`_start` to read the group table).

mod support;
use support::{conformance, reference, Library};

#[test]
fn rma_runs_with_every_rank_count_in_both_modes() {
    conformance("rma");
}

#[test]
fn rma_passes_with_mpich_and_open_mpi() {
    reference("rma", Library::Mpich, &[1, 2, 3, 4, 7]);
    reference("rma", Library::OpenMpi, &[2, 3, 4, 7]);
}

#[test]
fn rma_more_runs_with_every_rank_count_in_both_modes() {
    conformance("rma_more");
}

#[test]
fn rma_more_passes_with_mpich_and_open_mpi() {
    reference("rma_more", Library::Mpich, &[1, 2, 3, 4, 7]);
    reference("rma_more", Library::OpenMpi, &[2, 3, 4, 7]);
}

/// A put outside any epoch is `MPI_ERR_RMA_SYNC`, which ends the job under the window's
/// default handler, `MPI_ERRORS_ARE_FATAL` (pip-rs only: the exit code is ours).
#[test]
fn a_put_outside_an_epoch_ends_the_job_with_mpi_err_rma_sync() {
    const MPI_ERR_RMA_SYNC: i32 = 34;
    let prog = support::build("rma_sync_error", Library::PipRs);
    for mode in support::MODES {
        let out = support::run(Library::PipRs, &prog, 2, mode, &[]);
        assert_eq!(
            out.code,
            Some(MPI_ERR_RMA_SYNC),
            "{mode:?} mode:\n{}",
            out.all()
        );
        assert!(
            out.stderr.contains("MPI_Put") && out.stderr.contains("outside an access epoch"),
            "{}",
            out.all()
        );
        assert!(!out.stdout.contains("returned"), "{}", out.all());
    }
}
