/*
 * osu_alltoall's loop written against MPI, to measure the system's MPICH and Open MPI in the
 * same run as pip-rs's osu_alltoall:
 *
 *   mpicc.mpich -O2 -o alltoall-mpich alltoall.c && mpirun.mpich -n 2 ./alltoall-mpich [-m MIN:MAX] [-i N] [-x N]
 *
 * MPI_Alltoall of SIZE bytes per pair of ranks as MPI_CHAR, sizes 1 B to
 * 1 MiB; 1000/100 iterations up to 8 KiB, 100/10 above, a barrier before each size. Prints
 * the average over ranks of each rank's mean time per call, in microseconds.
 */
#include "common.h"

static void call(char *sbuf, char *rbuf, int count) {
    MPI_Alltoall(sbuf, count, MPI_CHAR, rbuf, count, MPI_CHAR, MPI_COMM_WORLD);
}

int main(int argc, char **argv) {
    return run_collective(argc, argv, "All-to-All Personalized Exchange Latency Test", 1, call);
}
