/* The predefined operations on int, double, signed char, unsigned and long long; MINLOC and
 * MAXLOC on the pair types (with ties); a non-commutative user operation (composition of
 * integer affine maps) that must give the serial rank order; MPI_Op_commutative,
 * MPI_Reduce_local, MPI_Op_free; MPI_ERR_OP for MPI_SUM on MPI_BYTE. */
#include "mpitest.h"

#define N 5
static int me, np;

static const MPI_Op int_ops[] = {MPI_MAX, MPI_MIN, MPI_SUM, MPI_PROD, MPI_LAND,
                                 MPI_LOR, MPI_LXOR, MPI_BAND, MPI_BOR, MPI_BXOR};
static const char *int_names[] = {"MAX", "MIN", "SUM", "PROD", "LAND", "LOR", "LXOR", "BAND", "BOR", "BXOR"};

/* The serial fold x0 op x1 op ... of integer values. */
#define FOLD(T, k, acc, x)                                                             \
    switch (k) {                                                                       \
    case 0: acc = acc > x ? acc : x; break;                                            \
    case 1: acc = acc < x ? acc : x; break;                                            \
    case 2: acc = (T)(acc + x); break;                                                 \
    case 3: acc = (T)(acc * x); break;                                                 \
    case 4: acc = (T)(acc && x); break;                                                \
    case 5: acc = (T)(acc || x); break;                                                \
    case 6: acc = (T)(!acc != !x); break;                                              \
    case 7: acc = (T)(acc & x); break;                                                 \
    case 8: acc = (T)(acc | x); break;                                                 \
    case 9: acc = (T)(acc ^ x); break;                                                 \
    }

/* The same for the arithmetic operations only (floating point). */
#define FOLD_ARITH(T, k, acc, x)                                                       \
    switch (k) {                                                                       \
    case 0: acc = acc > x ? acc : x; break;                                            \
    case 1: acc = acc < x ? acc : x; break;                                            \
    case 2: acc = acc + x; break;                                                      \
    case 3: acc = acc * x; break;                                                      \
    }

/* Each operation of `nops` on type T through MPI_Allreduce and MPI_Reduce (root size-1). */
#define TEST_TYPE(T, MPIT, nops, value, fmt, fold)                                           \
    do {                                                                               \
        T in[N], out[N], want[N];                                                      \
        int k, i, r;                                                                   \
        for (k = 0; k < nops; k++) {                                                   \
            for (i = 0; i < N; i++) {                                                  \
                in[i] = value(me, i);                                                  \
                want[i] = value(0, i);                                                 \
                for (r = 1; r < np; r++) {                                             \
                    T x = value(r, i);                                                 \
                    fold(T, k, want[i], x)                                             \
                }                                                                      \
            }                                                                          \
            MPI_Allreduce(in, out, N, MPIT, int_ops[k], MPI_COMM_WORLD);               \
            for (i = 0; i < N; i++)                                                    \
                CHECK(out[i] == want[i], "allreduce %s %s i=%d: " fmt " != " fmt, #MPIT, \
                      int_names[k], i, out[i], want[i]);                               \
            for (i = 0; i < N; i++) out[i] = 0;                                        \
            MPI_Reduce(in, out, N, MPIT, int_ops[k], np - 1, MPI_COMM_WORLD);          \
            if (me == np - 1)                                                          \
                for (i = 0; i < N; i++)                                                \
                    CHECK(out[i] == want[i], "reduce %s %s i=%d", #MPIT, int_names[k], i); \
        }                                                                              \
    } while (0)

#define V_INT(r, i) (((r) * 7 + (i) * 3) % 11 - 5)
#define V_SCHAR(r, i) ((signed char)(((r) + (i)) % 4 - 1))
#define V_UNSIGNED(r, i) ((unsigned)(((r) * 13 + (i) * 5) % 9) * 3u)
#define V_LL(r, i) ((long long)((r) % 3 - (i) % 2) * 1000000007LL + (r))
#define V_DOUBLE(r, i) (((r) % 4) * 0.5 + (i) - 1.0)

typedef struct { int a, b; } affine; /* x -> a * x + b */

/* inout = in o inout: the lower rank's map applied after the higher one's. */
static void compose(void *in, void *inout, int *len, MPI_Datatype *dt) {
    affine *f = in, *g = inout;
    int i;
    (void)dt;
    for (i = 0; i < *len; i++) {
        affine h = {f[i].a * g[i].a, f[i].a * g[i].b + f[i].b};
        g[i] = h;
    }
}

static affine map_of(int r, int i) { affine m = {r % 3 + 1 + i, r - i}; return m; }

static void user_op(void) {
    MPI_Op op;
    affine in[2], out[2], want[2];
    int i, r, commute = -1;
    MPI_Op_create(compose, 0, &op);
    MPI_Op_commutative(op, &commute);
    CHECK(commute == 0, "a non-commutative op says %d", commute);
    MPI_Op_commutative(MPI_SUM, &commute);
    CHECK(commute == 1, "MPI_SUM commutative says %d", commute);
    for (i = 0; i < 2; i++) in[i] = map_of(me, i);
    /* Serial: x0 o x1 o ... o x(n-1) */
    for (i = 0; i < 2; i++) {
        want[i] = map_of(np - 1, i);
        for (r = np - 2; r >= 0; r--) {
            affine f = map_of(r, i), h = {f.a * want[i].a, f.a * want[i].b + f.b};
            want[i] = h;
        }
    }
    MPI_Allreduce(in, out, 2, MPI_2INT, op, MPI_COMM_WORLD);
    for (i = 0; i < 2; i++) CHECK(out[i].a == want[i].a && out[i].b == want[i].b, "user allreduce i=%d: (%d,%d) != (%d,%d)", i, out[i].a, out[i].b, want[i].a, want[i].b);
    out[0].a = out[1].a = 0;
    MPI_Reduce(in, out, 2, MPI_2INT, op, np - 1, MPI_COMM_WORLD);
    if (me == np - 1)
        for (i = 0; i < 2; i++) CHECK(out[i].a == want[i].a && out[i].b == want[i].b, "user reduce i=%d", i);
    /* Scan: ranks 0..me */
    MPI_Scan(in, out, 2, MPI_2INT, op, MPI_COMM_WORLD);
    for (i = 0; i < 2; i++) {
        affine w = map_of(me, i);
        for (r = me - 1; r >= 0; r--) {
            affine f = map_of(r, i), h = {f.a * w.a, f.a * w.b + f.b};
            w = h;
        }
        CHECK(out[i].a == w.a && out[i].b == w.b, "user scan i=%d", i);
    }
    /* Reduce_local: inout = in o inout */
    affine a[1] = {{2, 3}}, b[1] = {{5, 7}};
    MPI_Reduce_local(a, b, 1, MPI_2INT, op);
    CHECK(b[0].a == 10 && b[0].b == 17, "reduce_local user (%d,%d)", b[0].a, b[0].b);
    MPI_Op_free(&op);
    CHECK(op == MPI_OP_NULL, "MPI_Op_free leaves the handle set");
    int x[3] = {1, 2, 3}, y[3] = {10, 20, 30};
    MPI_Reduce_local(x, y, 3, MPI_INT, MPI_SUM);
    CHECK(y[0] == 11 && y[1] == 22 && y[2] == 33, "reduce_local sum");
}

/* MINLOC and MAXLOC on every pair type: values with ties across ranks. */
#define TEST_LOC(T, MPIT)                                                              \
    do {                                                                               \
        struct { T v; int i; } in[N], lo[N], hi[N];                                    \
        int i, r;                                                                      \
        for (i = 0; i < N; i++) { in[i].v = (T)((me + i) % 3); in[i].i = me * 10 + i; } \
        MPI_Allreduce(in, lo, N, MPIT, MPI_MINLOC, MPI_COMM_WORLD);                    \
        MPI_Reduce(in, hi, N, MPIT, MPI_MAXLOC, 0, MPI_COMM_WORLD);                    \
        for (i = 0; i < N; i++) {                                                      \
            T wlo = (T)(i % 3), whi = wlo; int ilo = i, ihi = i;                       \
            for (r = 1; r < np; r++) {                                                 \
                T v = (T)((r + i) % 3);                                                \
                if (v < wlo) { wlo = v; ilo = r * 10 + i; }                             \
                if (v > whi) { whi = v; ihi = r * 10 + i; }                             \
            }                                                                          \
            CHECK(lo[i].v == wlo && lo[i].i == ilo, "minloc %s i=%d", #MPIT, i);        \
            if (me == 0) CHECK(hi[i].v == whi && hi[i].i == ihi, "maxloc %s i=%d", #MPIT, i); \
        }                                                                              \
    } while (0)

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &me);
    MPI_Comm_size(MPI_COMM_WORLD, &np);
    TEST_TYPE(int, MPI_INT, 10, V_INT, "%d", FOLD);
    TEST_TYPE(signed char, MPI_SIGNED_CHAR, 10, V_SCHAR, "%d", FOLD);
    TEST_TYPE(unsigned, MPI_UNSIGNED, 10, V_UNSIGNED, "%u", FOLD);
    TEST_TYPE(long long, MPI_LONG_LONG, 10, V_LL, "%lld", FOLD);
    TEST_TYPE(double, MPI_DOUBLE, 4, V_DOUBLE, "%g", FOLD_ARITH);
    TEST_LOC(int, MPI_2INT);
    TEST_LOC(float, MPI_FLOAT_INT);
    TEST_LOC(double, MPI_DOUBLE_INT);
    TEST_LOC(long, MPI_LONG_INT);
    TEST_LOC(short, MPI_SHORT_INT);
    user_op();
#ifndef NO_ERRHANDLER
    {
        unsigned char b[2] = {1, 2}, c[2];
        MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
        double d[2] = {1, 2}, e[2];
        /* Open MPI checks the pairing only when there are several ranks, and defines the
         * arithmetic operations on MPI_BYTE as an extension. */
        if (np > 1) CHECK_RC(MPI_Allreduce(d, e, 2, MPI_DOUBLE, MPI_BAND, MPI_COMM_WORLD), MPI_ERR_OP);
#ifndef OPEN_MPI
        if (np > 1) CHECK_RC(MPI_Allreduce(b, c, 2, MPI_BYTE, MPI_SUM, MPI_COMM_WORLD), MPI_ERR_OP);
#endif
        CHECK_RC(MPI_Allreduce(b, c, 2, MPI_BYTE, MPI_BXOR, MPI_COMM_WORLD), MPI_SUCCESS);
    }
#endif
    FINISH("ops");
}
