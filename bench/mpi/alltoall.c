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

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    struct opts o = {1, 1 << 20, 1000, 100, 100, 10, 0};
    opt_parse(argc, argv, &o);
    size_t bytes = o.max_size * (size_t)size + 1;
    char *sbuf = malloc(bytes), *rbuf = malloc(bytes);
    memset(sbuf, 1, bytes);
    memset(rbuf, 0, bytes);
    if (rank == 0) {
        printf("# OSU MPI All-to-All Personalized Exchange Latency Test v7.4 (pip-rs's MPI twin over %d ranks: %s)\n",
               size, library());
        printf("%-10s%18s\n", "# Size", "Avg Latency(us)");
        fflush(stdout);
    }
    for (size_t s = first_size(o.min_size > 0 ? o.min_size : 1); s <= o.max_size; s = next_size(s)) {
        long n = s > 8192 ? o.iters_large : o.iters;
        long k = s > 8192 ? o.skip_large : o.skip;
        MPI_Barrier(MPI_COMM_WORLD);
        double start = 0;
        for (long i = 0; i < n + k; i++) {
            if (i == k) start = MPI_Wtime();
            MPI_Alltoall(sbuf, (int)s, MPI_CHAR, rbuf, (int)s, MPI_CHAR, MPI_COMM_WORLD);
        }
        double us = (MPI_Wtime() - start) * 1e6 / n, sum = 0;
        MPI_Reduce(&us, &sum, 1, MPI_DOUBLE, MPI_SUM, 0, MPI_COMM_WORLD);
        if (rank == 0) {
            printf("%-10zu%18.2f\n", s, sum / size);
            fflush(stdout);
        }
    }
    free(sbuf);
    free(rbuf);
    MPI_Finalize();
    return 0;
}
