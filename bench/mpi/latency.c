/*
 * The same ping-pong as pip-rs's osu_latency (bench/src/latency.rs), written against MPI so
 * that the system's MPICH and Open MPI can be measured in the same run:
 *
 *   mpicc.mpich -O2 -o latency-mpich latency.c && mpirun.mpich -n 2 ./latency-mpich [-m MIN:MAX] [-i N] [-x N]
 *
 * Options and output format as osu_latency's (sizes in bytes; -i and -x apply to every size;
 * without them 10000/100 iterations up to 8 KiB and 1000/10 above).
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t parse_size(const char *s) {
    char *end;
    size_t v = strtoull(s, &end, 10);
    if (*end == 'k' || *end == 'K') v <<= 10;
    else if (*end == 'm' || *end == 'M') v <<= 20;
    return v;
}

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    size_t min_size = 0, max_size = 1 << 22;
    long iters = -1, skip = -1;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "-m")) {
            char *colon = strchr(argv[i + 1], ':');
            if (colon) {
                *colon = 0;
                min_size = parse_size(argv[i + 1]);
                max_size = parse_size(colon + 1);
            } else {
                max_size = parse_size(argv[i + 1]);
            }
        } else if (!strcmp(argv[i], "-i")) {
            iters = atol(argv[i + 1]);
        } else if (!strcmp(argv[i], "-x")) {
            skip = atol(argv[i + 1]);
        }
    }
    if (size != 2) {
        if (rank == 0) fprintf(stderr, "latency: run with exactly 2 ranks\n");
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    char *sbuf = malloc(max_size ? max_size : 1), *rbuf = malloc(max_size ? max_size : 1);
    memset(sbuf, 'a', max_size);
    memset(rbuf, 'b', max_size);
    if (rank == 0) {
        char version[MPI_MAX_LIBRARY_VERSION_STRING];
        int len;
        MPI_Get_library_version(version, &len);
        char *nl = strchr(version, '\n');
        if (nl) *nl = 0;
        printf("# OSU MPI Latency Test v7.4 (pip-rs's MPI twin: %.60s)\n", version);
        printf("%-10s%18s\n", "# Size", "Latency (us)");
        fflush(stdout);
    }
    /* 0 (if MIN is 0), then powers of two from MIN (rounded up) to MAX, as osu_latency. */
    size_t first = 0;
    if (min_size > 0)
        for (first = 1; first < min_size; first *= 2) {}
    for (size_t s = first; s <= max_size; s = s ? s * 2 : 1) {
        long n = iters > 0 ? iters : (s > 8192 ? 1000 : 10000);
        long k = skip >= 0 ? skip : (s > 8192 ? 10 : 100);
        MPI_Barrier(MPI_COMM_WORLD);
        double start = 0;
        for (long i = 0; i < n + k; i++) {
            if (i == k) start = MPI_Wtime();
            if (rank == 0) {
                MPI_Send(sbuf, (int)s, MPI_CHAR, 1, 1, MPI_COMM_WORLD);
                MPI_Recv(rbuf, (int)s, MPI_CHAR, 1, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            } else {
                MPI_Recv(rbuf, (int)s, MPI_CHAR, 0, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
                MPI_Send(sbuf, (int)s, MPI_CHAR, 0, 1, MPI_COMM_WORLD);
            }
        }
        if (rank == 0) {
            printf("%-10zu%18.2f\n", s, (MPI_Wtime() - start) * 1e6 / (2.0 * n));
            fflush(stdout);
        }
    }
    free(sbuf);
    free(rbuf);
    MPI_Finalize();
    return 0;
}
