/*
 * Shared by the MPI twins of pip-rs's benchmarks (bw.c, barrier.c, allreduce.c): OSU-style
 * options and the size loop. Written for pip-rs; not OSU's code.
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
#endif
