/*
 * Shared by put_latency.c and get_latency.c: osu_put_latency's and osu_get_latency's method,
 * written for pip-rs (not OSU's code).
 *
 * OSU 7.x's defaults, which are also ours: the window is made with MPI_Win_allocate (`-w
 * allocate`; `-w create` uses MPI_Win_create over malloc'd memory), anew for every size, and
 * the synchronisation is MPI_Win_flush (`-s flush`): rank 0 takes a shared lock on rank 1's
 * window once per size (MPI_Win_lock(MPI_LOCK_SHARED, 1)), then every iteration is one
 * MPI_Put (or MPI_Get) of SIZE MPI_CHARs at displacement 0 followed by MPI_Win_flush(1), and
 * the lock is released after the timed loop. Rank 1 only waits in the barrier. Latency is the
 * timed loop's time divided by the iterations, in microseconds.
 *
 * The other synchronisations OSU offers are here too: `-s lock` (MPI_Win_lock /
 * MPI_Win_unlock around every operation) and `-s fence` (per iteration both ranks call
 * MPI_Win_fence, the one rank does the operation on the other's window, MPI_Win_fence, then the
 * same the other way round; the time is halved, as OSU does).
 *
 *   -m [MIN:]MAX  sizes (default 0 to 4 MiB)   -i N / -x N  iterations / warm-up
 *   (default 10000/100 up to 8 KiB, 1000/10 above)
 */
#ifndef PIPRS_MPI_ONESIDED_H
#define PIPRS_MPI_ONESIDED_H
#include "common.h"

/* One operation of `count` MPI_CHARs between `buf` and the target's window at displacement 0. */
typedef void (*rma_fn)(char *buf, int count, int target, MPI_Win win);

enum sync_kind { SYNC_FLUSH, SYNC_LOCK, SYNC_FENCE };

static inline const char *option(int argc, char **argv, const char *name, const char *dflt) {
    for (int i = 1; i + 1 < argc; i++)
        if (!strcmp(argv[i], name)) return argv[i + 1];
    return dflt;
}

/* The timed loop of one size; returns rank 0's latency in microseconds (0 on rank 1 for
 * flush and lock, which only rank 0 times). */
static inline double rma_size(int rank, enum sync_kind sync, rma_fn op, char *buf, int s,
                              long n, long k, MPI_Win win) {
    double start = 0, t = 0;
    if (sync == SYNC_FENCE) {
        int peer = 1 - rank;
        for (long i = 0; i < n + k; i++) {
            if (i == k) start = MPI_Wtime();
            MPI_Win_fence(0, win);
            if (rank == 0) op(buf, s, peer, win);
            MPI_Win_fence(0, win);
            if (rank == 1) op(buf, s, peer, win);
        }
        MPI_Win_fence(0, win);
        return (MPI_Wtime() - start) * 1e6 / n / 2;
    }
    if (rank != 0) return 0;
    if (sync == SYNC_FLUSH) MPI_Win_lock(MPI_LOCK_SHARED, 1, 0, win);
    for (long i = 0; i < n + k; i++) {
        if (i == k) start = MPI_Wtime();
        if (sync == SYNC_LOCK) MPI_Win_lock(MPI_LOCK_SHARED, 1, 0, win);
        op(buf, s, 1, win);
        if (sync == SYNC_LOCK) MPI_Win_unlock(1, win);
        else MPI_Win_flush(1, win);
    }
    t = (MPI_Wtime() - start) * 1e6 / n;
    if (sync == SYNC_FLUSH) MPI_Win_unlock(1, win);
    return t;
}

/* The whole program: options, header, and one window per size. */
static inline int run_rma(int argc, char **argv, const char *title, rma_fn op) {
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    struct opts o = {0, 1 << 22, 10000, 100, 1000, 10, 0};
    opt_parse(argc, argv, &o);
    const char *w = option(argc, argv, "-w", "allocate"), *sy = option(argc, argv, "-s", "flush");
    int create = !strcmp(w, "create");
    enum sync_kind sync = !strcmp(sy, "lock") ? SYNC_LOCK : !strcmp(sy, "fence") ? SYNC_FENCE : SYNC_FLUSH;
    if (size != 2 || (!create && strcmp(w, "allocate")) ||
        (sync == SYNC_FLUSH && strcmp(sy, "flush"))) {
        if (rank == 0)
            fprintf(stderr, "%s: run with exactly 2 ranks; -w allocate|create, -s flush|lock|fence\n", argv[0]);
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    char *buf = malloc(o.max_size + 1);
    memset(buf, 'a', o.max_size + 1);
    if (rank == 0) {
        printf("# OSU MPI_%s Test v7.4 (pip-rs's MPI twin: %s)\n", title, library());
        printf("# Window creation: %s\n", create ? "MPI_Win_create" : "MPI_Win_allocate");
        printf("# Synchronization: %s\n", sync == SYNC_FLUSH ? "MPI_Win_flush"
                                          : sync == SYNC_LOCK ? "MPI_Win_lock/unlock" : "MPI_Win_fence");
        printf("%-10s%18s\n", "# Size", "Latency (us)");
        fflush(stdout);
    }
    for (size_t s = first_size(o.min_size); s <= o.max_size; s = next_size(s)) {
        long n = s > 8192 ? o.iters_large : o.iters;
        long k = s > 8192 ? o.skip_large : o.skip;
        MPI_Win win;
        char *base = NULL, *mem = NULL;
        MPI_Aint bytes = (MPI_Aint)(s ? s : 1);
        if (create) {
            mem = malloc((size_t)bytes);
            memset(mem, 'b', (size_t)bytes);
            MPI_Win_create(mem, bytes, 1, MPI_INFO_NULL, MPI_COMM_WORLD, &win);
        } else {
            MPI_Win_allocate(bytes, 1, MPI_INFO_NULL, MPI_COMM_WORLD, &base, &win);
            memset(base, 'b', (size_t)bytes);
        }
        MPI_Barrier(MPI_COMM_WORLD);
        double us = rma_size(rank, sync, op, buf, (int)s, n, k, win);
        MPI_Barrier(MPI_COMM_WORLD);
        if (rank == 0) {
            printf("%-10zu%18.2f\n", s, us);
            fflush(stdout);
        }
        MPI_Win_free(&win);
        free(mem);
    }
    free(buf);
    MPI_Finalize();
    return 0;
}
#endif
