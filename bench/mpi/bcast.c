/*
 * osu_bcast's loop written against MPI, to measure the system's MPICH and Open MPI in the
 * same run as pip-rs's osu_bcast:
 *
 *   mpicc.mpich -O2 -o bcast-mpich bcast.c && mpirun.mpich -n 2 ./bcast-mpich [-m MIN:MAX] [-i N] [-x N]
 *
 * MPI_Bcast of SIZE bytes as MPI_CHAR from rank 0, sizes 1 B to
 * 1 MiB; 1000/100 iterations up to 8 KiB, 100/10 above, a barrier before each size. Prints
 * the average over ranks of each rank's mean time per call, in microseconds.
 */
#include "common.h"

static void call(char *sbuf, char *rbuf, int count) {
    (void)sbuf;
    MPI_Bcast(rbuf, count, MPI_CHAR, 0, MPI_COMM_WORLD);
}

int main(int argc, char **argv) {
    return run_collective(argc, argv, "Broadcast Latency Test", 0, call);
}
