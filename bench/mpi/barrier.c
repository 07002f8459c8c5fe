/*
 * osu_barrier's loop written against MPI, to measure the system's MPICH and Open MPI in the
 * same run as pip-rs's osu_barrier (bench/src/barrier.rs):
 *
 *   mpicc.mpich -O2 -o barrier-mpich barrier.c && mpirun.mpich -n 2 ./barrier-mpich [-i N] [-x N]
 *
 * Every rank times ITERS barriers after SKIP untimed ones (default 10000 and 100, as pip-rs's
 * osu_barrier); rank 0 prints the average over ranks of each rank's mean, in microseconds.
 */
#include "common.h"

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    struct opts o = {0, 0, 10000, 100, 10000, 100, 0};
    opt_parse(argc, argv, &o);
    if (rank == 0) {
        printf("# OSU MPI Barrier Latency Test v7.4 (pip-rs's MPI twin over %d ranks: %s)\n",
               size, library());
        printf("%-10s%18s\n", "# Size", "Avg Latency(us)");
        fflush(stdout);
    }
    double start = 0;
    for (long i = 0; i < o.iters + o.skip; i++) {
        if (i == o.skip) start = MPI_Wtime();
        MPI_Barrier(MPI_COMM_WORLD);
    }
    double us = (MPI_Wtime() - start) * 1e6 / o.iters, sum = 0;
    MPI_Reduce(&us, &sum, 1, MPI_DOUBLE, MPI_SUM, 0, MPI_COMM_WORLD);
    if (rank == 0) printf("%-10d%18.2f\n", 0, sum / size);
    MPI_Finalize();
    return 0;
}
