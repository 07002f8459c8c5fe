/* Every MPI_IN_PLACE form of the blocking collectives, against a serial computation. */
#include "mpitest.h"

#define N 3
static int me, np;

static int val(int r, int i, int d) { return r * 1000 + i * 10 + d; }

static void gathers(int root) {
    int *buf = malloc(sizeof(int) * N * np), r, i;
    /* Gather: the root's block is already in place */
    for (i = 0; i < N * np; i++) buf[i] = -1;
    for (i = 0; i < N; i++) buf[(me == root ? me * N : 0) + i] = val(me, i, 0);
    if (me == root) MPI_Gather(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, buf, N, MPI_INT, root, MPI_COMM_WORLD);
    else MPI_Gather(buf, N, MPI_INT, NULL, 0, MPI_DATATYPE_NULL, root, MPI_COMM_WORLD);
    if (me == root)
        for (r = 0; r < np; r++)
            for (i = 0; i < N; i++) CHECK(buf[r * N + i] == val(r, i, 0), "gather r=%d i=%d", r, i);
    /* Gatherv: piece r has r % 2 + 1 elements, in reverse order */
    int *counts = malloc(sizeof(int) * np), *displs = malloc(sizeof(int) * np), at = 0;
    for (r = np - 1; r >= 0; r--) { counts[r] = r % 2 + 1; displs[r] = at; at += counts[r]; }
    int *v = malloc(sizeof(int) * at);
    for (i = 0; i < at; i++) v[i] = -1;
    if (me == root) {
        for (i = 0; i < counts[me]; i++) v[displs[me] + i] = val(me, i, 1);
        MPI_Gatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, v, counts, displs, MPI_INT, root, MPI_COMM_WORLD);
        for (r = 0; r < np; r++)
            for (i = 0; i < counts[r]; i++) CHECK(v[displs[r] + i] == val(r, i, 1), "gatherv r=%d i=%d", r, i);
    } else {
        int mine[2] = {val(me, 0, 1), val(me, 1, 1)};
        MPI_Gatherv(mine, counts[me], MPI_INT, NULL, NULL, NULL, MPI_INT, root, MPI_COMM_WORLD);
    }
    /* Scatter: the root's block stays in sendbuf */
    for (r = 0; r < np; r++)
        for (i = 0; i < N; i++) buf[r * N + i] = val(r, i, 2);
    int got[N] = {-1, -1, -1};
    if (me == root) {
        MPI_Scatter(buf, N, MPI_INT, MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, root, MPI_COMM_WORLD);
        for (i = 0; i < N; i++) CHECK(buf[me * N + i] == val(me, i, 2), "scatter root block i=%d", i);
    } else {
        MPI_Scatter(NULL, 0, MPI_DATATYPE_NULL, got, N, MPI_INT, root, MPI_COMM_WORLD);
        for (i = 0; i < N; i++) CHECK(got[i] == val(me, i, 2), "scatter i=%d", i);
    }
    /* Scatterv */
    for (r = 0; r < np; r++)
        for (i = 0; i < counts[r]; i++) v[displs[r] + i] = val(r, i, 3);
    if (me == root) {
        MPI_Scatterv(v, counts, displs, MPI_INT, MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, root, MPI_COMM_WORLD);
    } else {
        got[0] = got[1] = -1;
        MPI_Scatterv(NULL, NULL, NULL, MPI_INT, got, counts[me], MPI_INT, root, MPI_COMM_WORLD);
        for (i = 0; i < counts[me]; i++) CHECK(got[i] == val(me, i, 3), "scatterv i=%d", i);
    }
    /* Reduce: the root's input is recvbuf */
    int red[N];
    for (i = 0; i < N; i++) red[i] = val(me, i, 4);
    if (me == root) MPI_Reduce(MPI_IN_PLACE, red, N, MPI_INT, MPI_SUM, root, MPI_COMM_WORLD);
    else MPI_Reduce(red, NULL, N, MPI_INT, MPI_SUM, root, MPI_COMM_WORLD);
    if (me == root)
        for (i = 0; i < N; i++) {
            int want = 0;
            for (r = 0; r < np; r++) want += val(r, i, 4);
            CHECK(red[i] == want, "reduce i=%d", i);
        }
    free(buf); free(counts); free(displs); free(v);
}

static void everyone(void) {
    int *buf = malloc(sizeof(int) * N * np), r, i;
    /* Allgather */
    for (i = 0; i < N * np; i++) buf[i] = -1;
    for (i = 0; i < N; i++) buf[me * N + i] = val(me, i, 5);
    MPI_Allgather(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, buf, N, MPI_INT, MPI_COMM_WORLD);
    for (r = 0; r < np; r++)
        for (i = 0; i < N; i++) CHECK(buf[r * N + i] == val(r, i, 5), "allgather r=%d i=%d", r, i);
    /* Allgatherv: piece r has r % 3 elements (some empty), with gaps */
    int *counts = malloc(sizeof(int) * np), *displs = malloc(sizeof(int) * np), at = 0;
    for (r = 0; r < np; r++) { counts[r] = r % 3; displs[r] = at; at += counts[r] + 1; }
    int *v = malloc(sizeof(int) * (at + 1));
    for (i = 0; i < at; i++) v[i] = -1;
    for (i = 0; i < counts[me]; i++) v[displs[me] + i] = val(me, i, 6);
    MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, v, counts, displs, MPI_INT, MPI_COMM_WORLD);
    for (r = 0; r < np; r++)
        for (i = 0; i < counts[r]; i++) CHECK(v[displs[r] + i] == val(r, i, 6), "allgatherv r=%d i=%d", r, i);
    /* Alltoall: block r of the buffer goes to rank r */
    for (r = 0; r < np; r++)
        for (i = 0; i < N; i++) buf[r * N + i] = val(me, i, r);
    MPI_Alltoall(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, buf, N, MPI_INT, MPI_COMM_WORLD);
    for (r = 0; r < np; r++)
        for (i = 0; i < N; i++) CHECK(buf[r * N + i] == val(r, i, me), "alltoall r=%d i=%d", r, i);
    /* Alltoallv: with rank r, exchange (r + me) % 2 + 1 elements (symmetric counts) */
    at = 0;
    for (r = 0; r < np; r++) { counts[r] = (r + me) % 2 + 1; displs[r] = at; at += counts[r] + 1; }
    int *w = malloc(sizeof(int) * at);
    for (r = 0; r < np; r++)
        for (i = 0; i < counts[r]; i++) w[displs[r] + i] = val(me, i, r);
    MPI_Alltoallv(MPI_IN_PLACE, NULL, NULL, MPI_DATATYPE_NULL, w, counts, displs, MPI_INT, MPI_COMM_WORLD);
    for (r = 0; r < np; r++)
        for (i = 0; i < counts[r]; i++) CHECK(w[displs[r] + i] == val(r, i, me), "alltoallv r=%d i=%d", r, i);
    /* Alltoallw: the same with byte displacements */
    MPI_Datatype *types = malloc(sizeof(MPI_Datatype) * np);
    int *bd = malloc(sizeof(int) * np);
    for (r = 0; r < np; r++) { types[r] = MPI_INT; bd[r] = displs[r] * (int)sizeof(int); }
    for (r = 0; r < np; r++)
        for (i = 0; i < counts[r]; i++) w[displs[r] + i] = val(me, i, r + 1);
    MPI_Alltoallw(MPI_IN_PLACE, NULL, NULL, NULL, w, counts, bd, types, MPI_COMM_WORLD);
    for (r = 0; r < np; r++)
        for (i = 0; i < counts[r]; i++) CHECK(w[displs[r] + i] == val(r, i, me + 1), "alltoallw r=%d i=%d", r, i);
    /* Allreduce, Scan, Exscan */
    int x[N];
    for (i = 0; i < N; i++) x[i] = val(me, i, 7);
    MPI_Allreduce(MPI_IN_PLACE, x, N, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    for (i = 0; i < N; i++) CHECK(x[i] == val(np - 1, i, 7), "allreduce i=%d", i);
    for (i = 0; i < N; i++) x[i] = val(me, i, 8);
    MPI_Scan(MPI_IN_PLACE, x, N, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    for (i = 0; i < N; i++) {
        int want = 0;
        for (r = 0; r <= me; r++) want += val(r, i, 8);
        CHECK(x[i] == want, "scan i=%d", i);
    }
    for (i = 0; i < N; i++) x[i] = val(me, i, 9);
    MPI_Exscan(MPI_IN_PLACE, x, N, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    if (me > 0)
        for (i = 0; i < N; i++) {
            int want = 0;
            for (r = 0; r < me; r++) want += val(r, i, 9);
            CHECK(x[i] == want, "exscan i=%d", i);
        }
    /* Reduce_scatter_block and Reduce_scatter: the input is the whole recvbuf */
    for (i = 0; i < N * np; i++) buf[i] = val(me, i, 0);
    MPI_Reduce_scatter_block(MPI_IN_PLACE, buf, N, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    for (i = 0; i < N; i++) {
        int want = 0;
        for (r = 0; r < np; r++) want += val(r, me * N + i, 0);
        CHECK(buf[i] == want, "reduce_scatter_block i=%d", i);
    }
    int sum = 0, first = 0;
    for (r = 0; r < np; r++) { counts[r] = r % 2 + 1; sum += counts[r]; }
    for (r = 0; r < me; r++) first += counts[r];
    int *y = malloc(sizeof(int) * sum);
    for (i = 0; i < sum; i++) y[i] = val(me, i, 1);
    MPI_Reduce_scatter(MPI_IN_PLACE, y, counts, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    for (i = 0; i < counts[me]; i++) {
        int want = 0;
        for (r = 0; r < np; r++) want += val(r, first + i, 1);
        CHECK(y[i] == want, "reduce_scatter i=%d", i);
    }
    free(buf); free(counts); free(displs); free(v); free(w); free(types); free(bd); free(y);
}

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &me);
    MPI_Comm_size(MPI_COMM_WORLD, &np);
    gathers(0);
    gathers(np - 1);
    everyone();
    FINISH("inplace");
}
