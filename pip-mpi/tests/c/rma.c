/* One-sided communication: put/get/accumulate under fence, under exclusive and shared locks,
 * fetch-and-op on a shared counter, a spin lock made of compare-and-swap, MPI_Win_allocate
 * and MPI_Win_get_attr. Only window functions synchronise (a fence stands in for a barrier),
 * so the program needs nothing else of MPI. Passes with any number of ranks. */
#include "mpitest.h"

#define ROUNDS 20

static int rank, size;

/* Every rank puts its rank into slot `rank` of every target; everyone accumulates rank + 1
 * into slot `size` of rank 0; then each gets its right neighbour's whole row. */
static void fence_epochs(void) {
    int *mem = calloc(size + 1, sizeof(int)), *row = calloc(size, sizeof(int));
    MPI_Win win;
    MPI_Win_create(mem, (MPI_Aint)((size + 1) * sizeof(int)), sizeof(int), MPI_INFO_NULL,
                   MPI_COMM_WORLD, &win);
    MPI_Win_fence(0, win);
    for (int t = 0; t < size; t++) MPI_Put(&rank, 1, MPI_INT, t, rank, 1, MPI_INT, win);
    int mine = rank + 1;
    MPI_Accumulate(&mine, 1, MPI_INT, 0, size, 1, MPI_INT, MPI_SUM, win);
    MPI_Win_fence(0, win);
    for (int i = 0; i < size; i++) CHECK(mem[i] == i, "fence put: slot %d holds %d", i, mem[i]);
    if (rank == 0)
        CHECK(mem[size] == size * (size + 1) / 2, "fence accumulate: %d, expected %d",
              mem[size], size * (size + 1) / 2);
    MPI_Get(row, size, MPI_INT, (rank + 1) % size, 0, size, MPI_INT, win);
    MPI_Win_fence(MPI_MODE_NOSUCCEED, win);
    for (int i = 0; i < size; i++) CHECK(row[i] == i, "fence get: slot %d holds %d", i, row[i]);

    int flag = 0, *unit = NULL, *flavor = NULL, *model = NULL;
    MPI_Aint *wsize = NULL;
    void *base = NULL;
    MPI_Win_get_attr(win, MPI_WIN_BASE, &base, &flag);
    CHECK(flag && base == mem, "MPI_WIN_BASE %p, expected %p", base, (void *)mem);
    MPI_Win_get_attr(win, MPI_WIN_SIZE, &wsize, &flag);
    CHECK(flag && *wsize == (MPI_Aint)((size + 1) * sizeof(int)), "MPI_WIN_SIZE");
    MPI_Win_get_attr(win, MPI_WIN_DISP_UNIT, &unit, &flag);
    CHECK(flag && *unit == (int)sizeof(int), "MPI_WIN_DISP_UNIT %d", *unit);
    MPI_Win_get_attr(win, MPI_WIN_CREATE_FLAVOR, &flavor, &flag);
    CHECK(flag && *flavor == MPI_WIN_FLAVOR_CREATE, "MPI_WIN_CREATE_FLAVOR %d", *flavor);
    MPI_Win_get_attr(win, MPI_WIN_MODEL, &model, &flag);
    CHECK(flag && (*model == MPI_WIN_UNIFIED || *model == MPI_WIN_SEPARATE), "MPI_WIN_MODEL");
    MPI_Win_free(&win);
    CHECK(win == MPI_WIN_NULL, "MPI_Win_free leaves MPI_WIN_NULL");
    free(mem);
    free(row);
}

/* A counter on rank 0 incremented ROUNDS times by each rank with get/flush/put under an
 * exclusive lock; then, under lock_all, every rank adds 1 to its slot on every target with
 * MPI_Accumulate and flushes. */
static void lock_epochs(void) {
    int *mem;
    MPI_Win win;
    /* A multiple of 64 bytes: with other sizes, MPICH 4.0.2's MPI_Win_allocate gave ranks
     * other than 0 an MPI_WIN_BASE that differs from baseptr, and accumulates did not land
     * where baseptr sees them (seen with 2 to 7 ranks). */
    MPI_Aint bytes = (MPI_Aint)(((size + 1) * sizeof(int) + 63) / 64 * 64);
    MPI_Win_allocate(bytes, sizeof(int), MPI_INFO_NULL, MPI_COMM_WORLD, &mem, &win);
    void *base = NULL;
    int flag = 0, *flavor = NULL;
    MPI_Win_get_attr(win, MPI_WIN_BASE, &base, &flag);
    CHECK(flag && base == mem, "MPI_Win_allocate's base %p, attribute %p", (void *)mem, base);
    MPI_Win_get_attr(win, MPI_WIN_CREATE_FLAVOR, &flavor, &flag);
    CHECK(flag && *flavor == MPI_WIN_FLAVOR_ALLOCATE, "MPI_WIN_CREATE_FLAVOR %d", *flavor);
    MPI_Win_lock(MPI_LOCK_EXCLUSIVE, rank, 0, win);
    for (int i = 0; i <= size; i++) mem[i] = 0;
    MPI_Win_unlock(rank, win);
    MPI_Win_fence(MPI_MODE_NOSUCCEED, win); /* a barrier: every rank's slots are zero */

    for (int i = 0; i < ROUNDS; i++) {
        int v = -1;
        MPI_Win_lock(MPI_LOCK_EXCLUSIVE, 0, 0, win);
        MPI_Get(&v, 1, MPI_INT, 0, size, 1, MPI_INT, win);
        MPI_Win_flush(0, win);
        v++;
        MPI_Put(&v, 1, MPI_INT, 0, size, 1, MPI_INT, win);
        MPI_Win_unlock(0, win);
    }
    int one = 1;
    MPI_Win_lock_all(0, win);
    for (int t = 0; t < size; t++) MPI_Accumulate(&one, 1, MPI_INT, t, rank, 1, MPI_INT, MPI_SUM, win);
    MPI_Win_flush_all(win);
    for (int t = 0; t < size; t++) MPI_Accumulate(&one, 1, MPI_INT, t, rank, 1, MPI_INT, MPI_SUM, win);
    MPI_Win_flush_local_all(win);
    MPI_Win_unlock_all(win);

    MPI_Win_fence(MPI_MODE_NOSUCCEED, win); /* a barrier: every rank's epochs are over */
    MPI_Win_lock(MPI_LOCK_SHARED, rank, 0, win);
    for (int i = 0; i < size; i++) CHECK(mem[i] == 2, "lock_all accumulate: slot %d holds %d", i, mem[i]);
    if (rank == 0) CHECK(mem[size] == size * ROUNDS, "exclusive counter %d, expected %d", mem[size], size * ROUNDS);
    MPI_Win_unlock(rank, win);
    MPI_Win_free(&win);
}

/* Every rank fetch-and-adds 1 to a counter on rank 0 ROUNDS times and keeps what it fetched in
 * its own window; rank 0 then gets every rank's list: together they are 0 .. size*ROUNDS-1. */
static void fetch_and_op(void) {
    long *mem = calloc(ROUNDS + 1, sizeof(long));
    MPI_Win win;
    MPI_Win_create(mem, (MPI_Aint)((ROUNDS + 1) * sizeof(long)), sizeof(long), MPI_INFO_NULL,
                   MPI_COMM_WORLD, &win);
    MPI_Win_fence(MPI_MODE_NOSUCCEED, win);
    MPI_Win_lock_all(0, win);
    long one = 1, prev = -1;
    for (int i = 0; i < ROUNDS; i++) {
        long got = -1;
        MPI_Fetch_and_op(&one, &got, MPI_LONG, 0, ROUNDS, MPI_SUM, win);
        MPI_Win_flush(0, win);
        CHECK(got > prev && got < (long)size * ROUNDS, "fetched %ld after %ld", got, prev);
        prev = got;
        mem[i] = got;
    }
    long seen = -1;
    MPI_Get_accumulate(NULL, 0, MPI_LONG, &seen, 1, MPI_LONG, 0, ROUNDS, 1, MPI_LONG, MPI_NO_OP, win);
    MPI_Win_flush(0, win);
    CHECK(seen >= prev + 1, "MPI_NO_OP fetched %ld after %ld", seen, prev);
    MPI_Win_unlock_all(win);
    MPI_Win_fence(0, win);
    if (rank == 0) {
        long *all = calloc((size_t)size * ROUNDS, sizeof(long));
        char *hit = calloc((size_t)size * ROUNDS, 1);
        for (int r = 0; r < size; r++) MPI_Get(all + r * ROUNDS, ROUNDS, MPI_LONG, r, 0, ROUNDS, MPI_LONG, win);
        MPI_Win_fence(MPI_MODE_NOSUCCEED, win);
        for (int i = 0; i < size * ROUNDS; i++) {
            CHECK(all[i] >= 0 && all[i] < (long)size * ROUNDS && !hit[all[i]], "fetched value %ld twice or out of range", all[i]);
            if (all[i] >= 0 && all[i] < (long)size * ROUNDS) hit[all[i]] = 1;
        }
        CHECK(mem[ROUNDS] == (long)size * ROUNDS, "counter %ld, expected %d", mem[ROUNDS], size * ROUNDS);
        free(all);
        free(hit);
    } else {
        MPI_Win_fence(MPI_MODE_NOSUCCEED, win);
    }
    MPI_Win_free(&win);
    free(mem);
}

/* A spin lock made of MPI_Compare_and_swap on rank 0 guards a counter that every rank
 * increments ROUNDS times with a plain get and put. */
static void cas_lock(void) {
    int *mem = calloc(2, sizeof(int));
    MPI_Win win;
    MPI_Win_create(mem, 2 * sizeof(int), sizeof(int), MPI_INFO_NULL, MPI_COMM_WORLD, &win);
    MPI_Win_fence(MPI_MODE_NOSUCCEED, win);
    MPI_Win_lock_all(0, win);
    int me = rank + 1, free_ = 0;
    for (int i = 0; i < ROUNDS; i++) {
        int old = -1;
        do {
            MPI_Compare_and_swap(&me, &free_, &old, MPI_INT, 0, 0, win);
            MPI_Win_flush(0, win);
        } while (old != 0);
        int v = -1;
        MPI_Get(&v, 1, MPI_INT, 0, 1, 1, MPI_INT, win);
        MPI_Win_flush(0, win);
        v++;
        MPI_Put(&v, 1, MPI_INT, 0, 1, 1, MPI_INT, win);
        MPI_Win_flush(0, win);
        MPI_Compare_and_swap(&free_, &me, &old, MPI_INT, 0, 0, win);
        MPI_Win_flush(0, win);
        CHECK(old == me, "the CAS lock was held by %d, not by this rank (%d)", old, me);
    }
    MPI_Win_unlock_all(win);
    MPI_Win_fence(0, win);
    if (rank == 0) CHECK(mem[0] == 0 && mem[1] == size * ROUNDS, "CAS lock %d, counter %d, expected %d", mem[0], mem[1], size * ROUNDS);
    MPI_Win_fence(MPI_MODE_NOSUCCEED, win);
    MPI_Win_free(&win);
    free(mem);
}

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    fence_epochs();
    lock_epochs();
    fetch_and_op();
    cas_lock();
    FINISH("rma");
}
