//! The smallest MPI program, with pip-rs and with the reference MPIs.

mod support;
use support::{conformance, reference, Library};

#[test]
fn hello_runs_with_every_rank_count_in_both_modes() {
    conformance("hello");
}

#[test]
fn hello_passes_with_mpich_and_open_mpi() {
    reference("hello", Library::Mpich, &[1, 2, 4]);
    reference("hello", Library::OpenMpi, &[1, 2, 4]);
}
