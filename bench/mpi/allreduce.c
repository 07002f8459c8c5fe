/*
 * osu_allreduce's loop written against MPI, to measure the system's MPICH and Open MPI in the
 * same run as pip-rs's osu_allreduce:
 *
 *   mpicc.mpich -O2 -o allreduce-mpich allreduce.c && mpirun.mpich -n 2 ./allreduce-mpich [-m MIN:MAX] [-i N] [-x N]
 *
 * MPI_Allreduce of SIZE bytes as MPI_CHAR with MPI_SUM (OSU's default type), sizes 1 B to
 * 1 MiB; 1000/100 iterations up to 8 KiB, 100/10 above, a barrier before each size. Prints
 * the average over ranks of each rank's mean time per call, in microseconds.
 */
#include "common.h"

static void call(char *sbuf, char *rbuf, int count) {
    MPI_Allreduce(sbuf, rbuf, count, MPI_CHAR, MPI_SUM, MPI_COMM_WORLD);
}

int main(int argc, char **argv) {
    return run_collective(argc, argv, "Allreduce Latency Test", 0, call);
}
