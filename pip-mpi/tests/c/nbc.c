/* The non-blocking collectives: each one started, then point-to-point traffic that the peers
 * need before they reach their wait (a ring exchange: a rank's receive needs its left
 * neighbour past the call), then a wait; several outstanding at once completed by one
 * MPI_Waitall; MPI_Test polled to completion. */
#include "mpitest.h"

#define N 4
static int me, np;

static int val(int r, int i, int d) { return r * 1000 + i * 10 + d; }

/* Rank me sends to its right neighbour and receives from its left one (blocking). */
static void ring(int tag) {
    int got = -1, right = (me + 1) % np, left = (me + np - 1) % np;
    MPI_Sendrecv(&me, 1, MPI_INT, right, tag, &got, 1, MPI_INT, left, tag, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    CHECK(got == left, "ring got %d", got);
}

static void one_by_one(int root) {
    MPI_Request req;
    int i, r, b[N], in[N], out[N], *all = malloc(sizeof(int) * N * np), *a2a = malloc(sizeof(int) * N * np);
    MPI_Ibarrier(MPI_COMM_WORLD, &req);
    ring(1);
    MPI_Wait(&req, MPI_STATUS_IGNORE);
    CHECK(req == MPI_REQUEST_NULL, "wait leaves the request set");
    for (i = 0; i < N; i++) b[i] = me == root ? val(root, i, 0) : -1;
    MPI_Ibcast(b, N, MPI_INT, root, MPI_COMM_WORLD, &req);
    ring(2);
    MPI_Wait(&req, MPI_STATUS_IGNORE);
    for (i = 0; i < N; i++) CHECK(b[i] == val(root, i, 0), "ibcast i=%d", i);
    for (i = 0; i < N; i++) in[i] = val(me, i, 1);
    MPI_Ireduce(in, out, N, MPI_INT, MPI_SUM, root, MPI_COMM_WORLD, &req);
    ring(3);
    MPI_Wait(&req, MPI_STATUS_IGNORE);
    if (me == root)
        for (i = 0; i < N; i++) {
            int want = 0;
            for (r = 0; r < np; r++) want += val(r, i, 1);
            CHECK(out[i] == want, "ireduce i=%d", i);
        }
    MPI_Iallreduce(in, out, N, MPI_INT, MPI_MAX, MPI_COMM_WORLD, &req);
    ring(4);
    MPI_Wait(&req, MPI_STATUS_IGNORE);
    for (i = 0; i < N; i++) CHECK(out[i] == val(np - 1, i, 1), "iallreduce i=%d", i);
    MPI_Igather(in, N, MPI_INT, all, N, MPI_INT, root, MPI_COMM_WORLD, &req);
    ring(5);
    MPI_Wait(&req, MPI_STATUS_IGNORE);
    if (me == root)
        for (r = 0; r < np; r++)
            for (i = 0; i < N; i++) CHECK(all[r * N + i] == val(r, i, 1), "igather r=%d i=%d", r, i);
    if (me == root)
        for (r = 0; r < np; r++)
            for (i = 0; i < N; i++) all[r * N + i] = val(r, i, 2);
    MPI_Iscatter(all, N, MPI_INT, out, N, MPI_INT, root, MPI_COMM_WORLD, &req);
    ring(6);
    MPI_Wait(&req, MPI_STATUS_IGNORE);
    for (i = 0; i < N; i++) CHECK(out[i] == val(me, i, 2), "iscatter i=%d", i);
    MPI_Iallgather(in, N, MPI_INT, all, N, MPI_INT, MPI_COMM_WORLD, &req);
    ring(7);
    MPI_Wait(&req, MPI_STATUS_IGNORE);
    for (r = 0; r < np; r++)
        for (i = 0; i < N; i++) CHECK(all[r * N + i] == val(r, i, 1), "iallgather r=%d i=%d", r, i);
    for (r = 0; r < np; r++)
        for (i = 0; i < N; i++) all[r * N + i] = val(me, i, r);
    MPI_Ialltoall(all, N, MPI_INT, a2a, N, MPI_INT, MPI_COMM_WORLD, &req);
    ring(8);
    int done = 0;
    while (!done) MPI_Test(&req, &done, MPI_STATUS_IGNORE);
    for (r = 0; r < np; r++)
        for (i = 0; i < N; i++) CHECK(a2a[r * N + i] == val(r, i, me), "ialltoall r=%d i=%d", r, i);
    free(all);
    free(a2a);
}

static void outstanding(void) {
    MPI_Request reqs[6];
    int i, r, b[N], in[N], sum[N], mx[N];
    int *all = malloc(sizeof(int) * N * np), *src = malloc(sizeof(int) * N * np), *a2a = malloc(sizeof(int) * N * np);
    for (i = 0; i < N; i++) { b[i] = me == 0 ? val(0, i, 3) : -1; in[i] = val(me, i, 4); }
    for (r = 0; r < np; r++)
        for (i = 0; i < N; i++) src[r * N + i] = val(me, i, r);
    MPI_Ibarrier(MPI_COMM_WORLD, &reqs[0]);
    MPI_Ibcast(b, N, MPI_INT, 0, MPI_COMM_WORLD, &reqs[1]);
    MPI_Iallreduce(in, sum, N, MPI_INT, MPI_SUM, MPI_COMM_WORLD, &reqs[2]);
    MPI_Ireduce(in, mx, N, MPI_INT, MPI_MAX, np - 1, MPI_COMM_WORLD, &reqs[3]);
    MPI_Iallgather(in, N, MPI_INT, all, N, MPI_INT, MPI_COMM_WORLD, &reqs[4]);
    MPI_Ialltoall(src, N, MPI_INT, a2a, N, MPI_INT, MPI_COMM_WORLD, &reqs[5]);
    ring(9);
    MPI_Status statuses[6];
    MPI_Waitall(6, reqs, statuses);
    for (i = 0; i < 6; i++) CHECK(reqs[i] == MPI_REQUEST_NULL, "waitall leaves request %d set", i);
    for (i = 0; i < N; i++) {
        int want = 0;
        for (r = 0; r < np; r++) want += val(r, i, 4);
        CHECK(b[i] == val(0, i, 3), "outstanding ibcast i=%d", i);
        CHECK(sum[i] == want, "outstanding iallreduce i=%d", i);
        if (me == np - 1) CHECK(mx[i] == val(np - 1, i, 4), "outstanding ireduce i=%d", i);
    }
    for (r = 0; r < np; r++)
        for (i = 0; i < N; i++) {
            CHECK(all[r * N + i] == val(r, i, 4), "outstanding iallgather r=%d i=%d", r, i);
            CHECK(a2a[r * N + i] == val(r, i, me), "outstanding ialltoall r=%d i=%d", r, i);
        }
    free(all);
    free(src);
    free(a2a);
}

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &me);
    MPI_Comm_size(MPI_COMM_WORLD, &np);
    one_by_one(0);
    one_by_one(np - 1);
    outstanding();
    FINISH("nbc");
}
