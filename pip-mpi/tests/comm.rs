//! The communicator family: communicators (duplicates, splits, communicators of groups,
//! comparison), groups, and Cartesian and distributed-graph topologies.

mod support;
use support::{conformance, reference, Library};

#[test]
fn comm_runs_with_every_rank_count_in_both_modes() {
    conformance("comm");
}

#[test]
fn comm_passes_with_mpich_and_open_mpi() {
    reference("comm", Library::Mpich, &[1, 2, 4, 7]);
    reference("comm", Library::OpenMpi, &[1, 2, 4, 7]);
}

#[test]
fn groups_run_with_every_rank_count_in_both_modes() {
    conformance("groups");
}

#[test]
fn groups_pass_with_mpich_and_open_mpi() {
    reference("groups", Library::Mpich, &[1, 2, 4, 7]);
    reference("groups", Library::OpenMpi, &[1, 2, 4, 7]);
}

#[test]
fn topologies_run_with_every_rank_count_in_both_modes() {
    conformance("topo");
}

#[test]
fn topologies_pass_with_mpich_and_open_mpi() {
    reference("topo", Library::Mpich, &[1, 2, 4, 7]);
    reference("topo", Library::OpenMpi, &[1, 2, 4, 7]);
}
