//! The collectives and reduction operations, with pip-rs and with the reference MPIs.
//!
//! `coll` checks every blocking collective against a serial computation, `inplace` every
//! `MPI_IN_PLACE` form, `ops` the predefined and user operations, `nbc` the non-blocking
//! collectives overlapped with point-to-point traffic.

mod support;
use support::{conformance, reference, Library};

#[test]
fn coll_runs_with_every_rank_count_in_both_modes() {
    conformance("coll");
}

#[test]
fn coll_passes_with_mpich_and_open_mpi() {
    reference("coll", Library::Mpich, &[1, 2, 4, 5]);
    reference("coll", Library::OpenMpi, &[1, 2, 4, 5]);
}

#[test]
fn inplace_runs_with_every_rank_count_in_both_modes() {
    conformance("inplace");
}

#[test]
fn inplace_passes_with_mpich_and_open_mpi() {
    reference("inplace", Library::Mpich, &[1, 2, 4, 5]);
    reference("inplace", Library::OpenMpi, &[1, 2, 4, 5]);
}

#[test]
fn ops_runs_with_every_rank_count_in_both_modes() {
    conformance("ops");
}

#[test]
fn ops_passes_with_mpich_and_open_mpi() {
    reference("ops", Library::Mpich, &[1, 2, 4, 5]);
    reference("ops", Library::OpenMpi, &[1, 2, 4, 5]);
}

#[test]
fn nbc_runs_with_every_rank_count_in_both_modes() {
    conformance("nbc");
}

#[test]
fn nbc_passes_with_mpich_and_open_mpi() {
    reference("nbc", Library::Mpich, &[1, 2, 4, 5]);
    reference("nbc", Library::OpenMpi, &[1, 2, 4, 5]);
}
