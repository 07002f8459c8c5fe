/*
 * Shared by the MPI twins of pip-rs's benchmarks (bw.c, barrier.c, allreduce.c, bcast.c,
 * alltoall.c): OSU-style options, the size loop, and the timing loop of a collective. Written for pip-rs; not OSU's code.
 *
 *   -m [MIN:]MAX  sizes (k, m suffixes)   -i N  timed iterations   -x N  warm-up iterations
 *   -W N          window (bw)
 */
#ifndef PIPRS_MPI_COMMON_H
#define PIPRS_MPI_COMMON_H
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct opts {
    size_t min_size, max_size;
    long iters, skip, iters_large, skip_large, window;
};

static inline size_t opt_size(const char *s) {
    char *end;
    size_t v = strtoull(s, &end, 10);
    if (*end == 'k' || *end == 'K') v <<= 10;
    else if (*end == 'm' || *end == 'M') v <<= 20;
    return v;
}

/* Parses argv over the defaults in *o; -i and -x set both the small and the large counts. */
static inline void opt_parse(int argc, char **argv, struct opts *o) {
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *v = argv[i + 1];
        if (!strcmp(argv[i], "-m")) {
            const char *colon = strchr(v, ':');
            if (colon) {
                o->min_size = opt_size(v);
                o->max_size = opt_size(colon + 1);
            } else {
                o->max_size = opt_size(v);
            }
        } else if (!strcmp(argv[i], "-i")) {
            o->iters = o->iters_large = atol(v);
        } else if (!strcmp(argv[i], "-x")) {
            o->skip = o->skip_large = atol(v);
        } else if (!strcmp(argv[i], "-W")) {
            o->window = atol(v);
        }
    }
}

/* The first size of the loop: 0 if MIN is 0, else MIN rounded up to a power of two. */
static inline size_t first_size(size_t min) {
    size_t s = 0;
    if (min > 0)
        for (s = 1; s < min; s *= 2) {}
    return s;
}

static inline size_t next_size(size_t s) { return s ? s * 2 : 1; }

/* The MPI library's first line, for the header. */
static inline const char *library(void) {
    static char version[MPI_MAX_LIBRARY_VERSION_STRING];
    int len;
    MPI_Get_library_version(version, &len);
    char *nl = strchr(version, '\n');
    if (nl) *nl = 0;
    if (strlen(version) > 60) version[60] = 0;
    return version;
}
/* One collective call of `count` MPI_CHARs from `sbuf` into `rbuf`. */
typedef void (*collective_fn)(char *sbuf, char *rbuf, int count);

/*
 * The whole program of a collective's twin: OSU's options, sizes 1 B to 1 MiB, 1000/100
 * iterations up to 8 KiB and 100/10 above, a barrier before each size; prints `title` and, per
 * size, the average over ranks of each rank's mean time per call in microseconds. Each buffer
 * holds `per_rank` times the largest size (the communicator size for all-to-all, else 1).
 */
static inline int run_collective(int argc, char **argv, const char *title, int per_rank_is_size,
                                 collective_fn call) {
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    struct opts o = {1, 1 << 20, 1000, 100, 100, 10, 0};
    opt_parse(argc, argv, &o);
    size_t bytes = o.max_size * (size_t)(per_rank_is_size ? size : 1) + 1;
    char *sbuf = malloc(bytes), *rbuf = malloc(bytes);
    memset(sbuf, 1, bytes);
    memset(rbuf, 0, bytes);
    if (rank == 0) {
        printf("# OSU MPI %s v7.4 (pip-rs's MPI twin over %d ranks: %s)\n", title, size, library());
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
            call(sbuf, rbuf, (int)s);
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
#endif
