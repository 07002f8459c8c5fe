/* Every blocking collective against a serial computation of its result: 1, 4 and 5000
 * elements, roots 0 and size-1, v-variants with uneven counts and gaps between pieces,
 * MPI_DOUBLE_INT (not contiguous: packed) next to MPI_INT, and MPI_Alltoallw with a
 * different type per peer. */
#include "mpitest.h"

typedef struct { double d; int i; } di_t;

static int me, np;

/* The value rank r puts at element i (for destination d where that matters). */
static int val(int r, int i, int d) { return r * 100000 + i * 7 + d; }

static void rooted(int n, int root) {
    int *buf = malloc(sizeof(int) * n * np), *mine = malloc(sizeof(int) * n);
    int i, r;
    /* Bcast */
    for (i = 0; i < n; i++) mine[i] = me == root ? val(root, i, 0) : -1;
    MPI_Bcast(mine, n, MPI_INT, root, MPI_COMM_WORLD);
    for (i = 0; i < n; i++) CHECK(mine[i] == val(root, i, 0), "bcast n=%d i=%d", n, i);
    /* Bcast of a packed type */
    di_t *d = malloc(sizeof(di_t) * n);
    for (i = 0; i < n; i++) { d[i].d = me == root ? i + 0.5 : -1; d[i].i = me == root ? i : -1; }
    MPI_Bcast(d, n, MPI_DOUBLE_INT, root, MPI_COMM_WORLD);
    for (i = 0; i < n; i++) CHECK(d[i].d == i + 0.5 && d[i].i == i, "bcast double_int n=%d i=%d", n, i);
    free(d);
    /* Gather */
    for (i = 0; i < n; i++) mine[i] = val(me, i, 0);
    for (i = 0; i < n * np; i++) buf[i] = -1;
    MPI_Gather(mine, n, MPI_INT, buf, n, MPI_INT, root, MPI_COMM_WORLD);
    if (me == root)
        for (r = 0; r < np; r++)
            for (i = 0; i < n; i++) CHECK(buf[r * n + i] == val(r, i, 0), "gather n=%d r=%d i=%d", n, r, i);
    /* Scatter */
    if (me == root)
        for (r = 0; r < np; r++)
            for (i = 0; i < n; i++) buf[r * n + i] = val(r, i, 1);
    for (i = 0; i < n; i++) mine[i] = -1;
    MPI_Scatter(buf, n, MPI_INT, mine, n, MPI_INT, root, MPI_COMM_WORLD);
    for (i = 0; i < n; i++) CHECK(mine[i] == val(me, i, 1), "scatter n=%d i=%d", n, i);
    /* Reduce: sum over ranks, and max */
    for (i = 0; i < n; i++) mine[i] = val(me, i, 0);
    for (i = 0; i < n; i++) buf[i] = -1;
    MPI_Reduce(mine, buf, n, MPI_INT, MPI_SUM, root, MPI_COMM_WORLD);
    if (me == root)
        for (i = 0; i < n; i++) {
            int want = 0;
            for (r = 0; r < np; r++) want += val(r, i, 0);
            CHECK(buf[i] == want, "reduce sum n=%d i=%d: %d != %d", n, i, buf[i], want);
        }
    double *x = malloc(sizeof(double) * n), *y = malloc(sizeof(double) * n);
    for (i = 0; i < n; i++) x[i] = (me + 1) * 0.25 + i;
    MPI_Reduce(x, y, n, MPI_DOUBLE, MPI_MAX, root, MPI_COMM_WORLD);
    if (me == root)
        for (i = 0; i < n; i++) CHECK(y[i] == np * 0.25 + i, "reduce max n=%d i=%d", n, i);
    free(x);
    free(y);
    free(buf);
    free(mine);
}

/* Rooted v-variants: rank r's piece has (r % 3) * n / 2 + 1 elements, laid out in reverse
 * rank order with a gap of 2 between pieces. */
static void rooted_v(int n, int root) {
    int *counts = malloc(sizeof(int) * np), *displs = malloc(sizeof(int) * np);
    int total = 0, r, i;
    for (r = 0; r < np; r++) counts[r] = (r % 3) * n / 2 + 1;
    for (r = np - 1; r >= 0; r--) { displs[r] = total; total += counts[r] + 2; }
    int *buf = malloc(sizeof(int) * total), *mine = malloc(sizeof(int) * counts[me]);
    for (i = 0; i < counts[me]; i++) mine[i] = val(me, i, 2);
    for (i = 0; i < total; i++) buf[i] = -1;
    MPI_Gatherv(mine, counts[me], MPI_INT, buf, counts, displs, MPI_INT, root, MPI_COMM_WORLD);
    if (me == root)
        for (r = 0; r < np; r++) {
            for (i = 0; i < counts[r]; i++) CHECK(buf[displs[r] + i] == val(r, i, 2), "gatherv n=%d r=%d i=%d", n, r, i);
            CHECK(buf[displs[r] + counts[r]] == -1, "gatherv wrote a gap");
        }
    if (me == root)
        for (r = 0; r < np; r++)
            for (i = 0; i < counts[r]; i++) buf[displs[r] + i] = val(r, i, 3);
    for (i = 0; i < counts[me]; i++) mine[i] = -1;
    MPI_Scatterv(buf, counts, displs, MPI_INT, mine, counts[me], MPI_INT, root, MPI_COMM_WORLD);
    for (i = 0; i < counts[me]; i++) CHECK(mine[i] == val(me, i, 3), "scatterv n=%d i=%d", n, i);
    /* Gatherv of a packed type */
    di_t *d = malloc(sizeof(di_t) * counts[me]), *all = malloc(sizeof(di_t) * total);
    for (i = 0; i < counts[me]; i++) { d[i].d = me + i * 0.5; d[i].i = -i; }
    for (i = 0; i < total; i++) { all[i].d = -1; all[i].i = 1; }
    MPI_Gatherv(d, counts[me], MPI_DOUBLE_INT, all, counts, displs, MPI_DOUBLE_INT, root, MPI_COMM_WORLD);
    if (me == root)
        for (r = 0; r < np; r++)
            for (i = 0; i < counts[r]; i++)
                CHECK(all[displs[r] + i].d == r + i * 0.5 && all[displs[r] + i].i == -i, "gatherv double_int r=%d i=%d", r, i);
    free(d);
    free(all);
    free(buf);
    free(mine);
    free(counts);
    free(displs);
}

static void everyone(int n) {
    int *all = malloc(sizeof(int) * n * np), *out = malloc(sizeof(int) * n * np), *mine = malloc(sizeof(int) * n * np);
    int i, r;
    /* Allgather */
    for (i = 0; i < n; i++) mine[i] = val(me, i, 0);
    MPI_Allgather(mine, n, MPI_INT, all, n, MPI_INT, MPI_COMM_WORLD);
    for (r = 0; r < np; r++)
        for (i = 0; i < n; i++) CHECK(all[r * n + i] == val(r, i, 0), "allgather n=%d r=%d i=%d", n, r, i);
    /* Alltoall: block d of rank r holds val(r, i, d) */
    for (r = 0; r < np; r++)
        for (i = 0; i < n; i++) mine[r * n + i] = val(me, i, r);
    MPI_Alltoall(mine, n, MPI_INT, out, n, MPI_INT, MPI_COMM_WORLD);
    for (r = 0; r < np; r++)
        for (i = 0; i < n; i++) CHECK(out[r * n + i] == val(r, i, me), "alltoall n=%d r=%d i=%d", n, r, i);
    /* Allreduce, Scan, Exscan */
    for (i = 0; i < n; i++) mine[i] = val(me, i, 0);
    MPI_Allreduce(mine, out, n, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    for (i = 0; i < n; i++) {
        int want = 0;
        for (r = 0; r < np; r++) want += val(r, i, 0);
        CHECK(out[i] == want, "allreduce n=%d i=%d", n, i);
    }
    MPI_Scan(mine, out, n, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    for (i = 0; i < n; i++) {
        int want = 0;
        for (r = 0; r <= me; r++) want += val(r, i, 0);
        CHECK(out[i] == want, "scan n=%d i=%d", n, i);
    }
    MPI_Exscan(mine, out, n, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    if (me > 0)
        for (i = 0; i < n; i++) {
            int want = 0;
            for (r = 0; r < me; r++) want += val(r, i, 0);
            CHECK(out[i] == want, "exscan n=%d i=%d", n, i);
        }
    /* Reduce_scatter_block: element i of the whole vector is summed; block me kept */
    for (i = 0; i < n * np; i++) mine[i] = val(me, i, 0);
    MPI_Reduce_scatter_block(mine, out, n, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    for (i = 0; i < n; i++) {
        int want = 0;
        for (r = 0; r < np; r++) want += val(r, me * n + i, 0);
        CHECK(out[i] == want, "reduce_scatter_block n=%d i=%d", n, i);
    }
    free(all);
    free(out);
    free(mine);
}

static void everyone_v(int n) {
    int *rc = malloc(sizeof(int) * np), *rd = malloc(sizeof(int) * np);
    int *sc = malloc(sizeof(int) * np), *sd = malloc(sizeof(int) * np);
    int total = 0, stotal = 0, r, i;
    for (r = 0; r < np; r++) rc[r] = (r % 3) * n / 2 + 1;
    for (r = np - 1; r >= 0; r--) { rd[r] = total; total += rc[r] + 1; }
    int *all = malloc(sizeof(int) * total), *mine = malloc(sizeof(int) * rc[me]);
    for (i = 0; i < rc[me]; i++) mine[i] = val(me, i, 4);
    for (i = 0; i < total; i++) all[i] = -1;
    MPI_Allgatherv(mine, rc[me], MPI_INT, all, rc, rd, MPI_INT, MPI_COMM_WORLD);
    for (r = 0; r < np; r++)
        for (i = 0; i < rc[r]; i++) CHECK(all[rd[r] + i] == val(r, i, 4), "allgatherv n=%d r=%d i=%d", n, r, i);
    /* Alltoallv: rank s sends (s + d) % 3 * n / 3 + 1 elements to d, pieces in reverse order */
    for (r = 0; r < np; r++) sc[r] = (me + r) % 3 * n / 3 + 1;
    for (r = np - 1; r >= 0; r--) { sd[r] = stotal; stotal += sc[r] + 1; }
    total = 0;
    for (r = 0; r < np; r++) { rc[r] = (r + me) % 3 * n / 3 + 1; rd[r] = total; total += rc[r] + 3; }
    int *s = malloc(sizeof(int) * stotal), *o = malloc(sizeof(int) * total);
    for (r = 0; r < np; r++)
        for (i = 0; i < sc[r]; i++) s[sd[r] + i] = val(me, i, r);
    for (i = 0; i < total; i++) o[i] = -1;
    MPI_Alltoallv(s, sc, sd, MPI_INT, o, rc, rd, MPI_INT, MPI_COMM_WORLD);
    for (r = 0; r < np; r++)
        for (i = 0; i < rc[r]; i++) CHECK(o[rd[r] + i] == val(r, i, me), "alltoallv n=%d r=%d i=%d", n, r, i);
    /* Reduce_scatter: rank r keeps rc[r] = (r % 3) * n / 2 + 1 elements */
    int sum = 0;
    for (r = 0; r < np; r++) { rc[r] = (r % 3) * n / 2 + 1; sum += rc[r]; }
    int *v = malloc(sizeof(int) * sum), *res = malloc(sizeof(int) * rc[me]), at = 0;
    for (i = 0; i < sum; i++) v[i] = val(me, i, 0);
    for (r = 0; r < me; r++) at += rc[r];
    MPI_Reduce_scatter(v, res, rc, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    for (i = 0; i < rc[me]; i++) {
        int want = 0;
        for (r = 0; r < np; r++) want += val(r, at + i, 0);
        CHECK(res[i] == want, "reduce_scatter n=%d i=%d", n, i);
    }
    free(v); free(res); free(s); free(o); free(all); free(mine);
    free(rc); free(rd); free(sc); free(sd);
}

/* Alltoallw: to an even peer n ints, to an odd one n doubles (byte displacements). */
static void alltoallw(int n) {
    int *sc = malloc(sizeof(int) * np), *sd = malloc(sizeof(int) * np), *rc = malloc(sizeof(int) * np), *rd = malloc(sizeof(int) * np);
    MPI_Datatype *st = malloc(sizeof(MPI_Datatype) * np), *rt = malloc(sizeof(MPI_Datatype) * np);
    int r, i, at = 0;
    for (r = 0; r < np; r++) {
        sc[r] = n; st[r] = r % 2 ? MPI_DOUBLE : MPI_INT; sd[r] = at; at += n * 8 + 8;
    }
    char *s = malloc(at);
    for (r = 0; r < np; r++)
        for (i = 0; i < n; i++) {
            if (r % 2) ((double *)(s + sd[r]))[i] = val(me, i, r) + 0.5;
            else ((int *)(s + sd[r]))[i] = val(me, i, r);
        }
    int rt_at = 0;
    for (r = 0; r < np; r++) {
        rc[r] = n; rt[r] = me % 2 ? MPI_DOUBLE : MPI_INT; rd[r] = rt_at; rt_at += n * 8;
    }
    char *o = malloc(rt_at);
    MPI_Alltoallw(s, sc, sd, st, o, rc, rd, rt, MPI_COMM_WORLD);
    for (r = 0; r < np; r++)
        for (i = 0; i < n; i++) {
            if (me % 2) CHECK(((double *)(o + rd[r]))[i] == val(r, i, me) + 0.5, "alltoallw r=%d i=%d", r, i);
            else CHECK(((int *)(o + rd[r]))[i] == val(r, i, me), "alltoallw r=%d i=%d", r, i);
        }
    free(s); free(o); free(sc); free(sd); free(rc); free(rd); free(st); free(rt);
}

int main(int argc, char **argv) {
    int sizes[3] = {1, 4, 5000}, k;
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &me);
    MPI_Comm_size(MPI_COMM_WORLD, &np);
    MPI_Barrier(MPI_COMM_WORLD);
    for (k = 0; k < 3; k++) {
        rooted(sizes[k], 0);
        rooted(sizes[k], np - 1);
        rooted_v(sizes[k], 0);
        rooted_v(sizes[k], np - 1);
        everyone(sizes[k]);
        everyone_v(sizes[k]);
        alltoallw(sizes[k]);
    }
    MPI_Barrier(MPI_COMM_WORLD);
    FINISH("coll");
}
