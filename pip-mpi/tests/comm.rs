//! The communicator family: communicators (duplicates, splits, communicators of groups,
//! comparison), groups, and Cartesian and distributed-graph topologies.

mod support;
use support::{conformance, reference, Mpi};

#[test]
fn comm_runs_with_every_rank_count_in_both_modes() {
    conformance("comm");
}

#[test]
fn comm_passes_with_mpich_and_open_mpi() {
    reference("comm", Mpi::Mpich, &[1, 2, 4, 7]);
    reference("comm", Mpi::OpenMpi, &[1, 2, 4, 7]);
}

#[test]
fn groups_run_with_every_rank_count_in_both_modes() {
    conformance("groups");
}

#[test]
fn groups_pass_with_mpich_and_open_mpi() {
    reference("groups", Mpi::Mpich, &[1, 2, 4, 7]);
    reference("groups", Mpi::OpenMpi, &[1, 2, 4, 7]);
}

#[test]
fn topologies_run_with_every_rank_count_in_both_modes() {
    conformance("topo");
}

#[test]
fn topologies_pass_with_mpich_and_open_mpi() {
    reference("topo", Mpi::Mpich, &[1, 2, 4, 7]);
    reference("topo", Mpi::OpenMpi, &[1, 2, 4, 7]);
}
