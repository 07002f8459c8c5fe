//! Point-to-point and requests: the C programs `p2p.c` (send modes, receives, wildcards,
//! order, truncation, cancel, probes, send-receive, buffered sends, `MPI_PROC_NULL`, empty and
//! 1 MiB messages) and `requests.c` (the wait and test calls with null requests, persistent
//! requests, freeing an active send, `MPI_Request_get_status`), with pip-rs and with the
//! reference MPIs.

mod support;
use support::{conformance, reference, Library};

#[test]
fn p2p_runs_with_every_rank_count_in_both_modes() {
    conformance("p2p");
}

#[test]
fn p2p_passes_with_mpich_and_open_mpi() {
    reference("p2p", Library::Mpich, &[1, 2, 4]);
    reference("p2p", Library::OpenMpi, &[1, 2, 4]);
}

#[test]
fn requests_run_with_every_rank_count_in_both_modes() {
    conformance("requests");
}

#[test]
fn requests_pass_with_mpich_and_open_mpi() {
    reference("requests", Library::Mpich, &[1, 2, 4]);
    reference("requests", Library::OpenMpi, &[1, 2, 4]);
}
