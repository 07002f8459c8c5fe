//! Derived datatypes (tests/c/datatypes.c): sizes, bounds and true bounds of every constructor
//! against the C compiler's layout, names, MPI_Pack/MPI_Unpack, MPI_BOTTOM with absolute
//! addresses, vector and struct data over the wire, and MPI_Get_count/MPI_Get_elements after
//! short and partial messages; with pip-rs and with the reference MPIs.

mod support;
use support::{conformance, reference, Library};

#[test]
fn datatypes_conform_with_every_rank_count_in_both_modes() {
    conformance("datatypes");
}

#[test]
fn datatypes_pass_with_mpich_and_open_mpi() {
    reference("datatypes", Library::Mpich, &[1, 2, 4]);
    reference("datatypes", Library::OpenMpi, &[1, 2, 4]);
}
