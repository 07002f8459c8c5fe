/* Derived datatypes: the sizes, bounds and true bounds of every constructor and of the pair
 * types (compared with what the C compiler lays out), names, MPI_Pack/MPI_Unpack round trips,
 * absolute addresses with MPI_BOTTOM, and data over the wire: a matrix column sent as a vector
 * and received as contiguous doubles (and back) to itself and around a ring, an array of
 * structs, and MPI_Get_count/MPI_Get_elements after short and partial messages. */
#include "mpitest.h"
#include <stddef.h>

struct rec {
    int i;
    double d;
    char c[3];
};

struct pair_di { double v; int k; };
struct pair_fi { float v; int k; };
struct pair_li { long v; int k; };
struct pair_si { short v; int k; };
struct pair_ii { int v; int k; };
struct pair_ldi { long double v; int k; };

static int rank, size;

/* Checks a type's size, lb, extent, true lb and true extent. */
#define SHAPE(t, sz, l, ext, tl, text)                                                     \
    do {                                                                                   \
        int s_;                                                                            \
        MPI_Aint l_, e_, tl_, te_;                                                         \
        MPI_Type_size(t, &s_);                                                             \
        MPI_Type_get_extent(t, &l_, &e_);                                                  \
        MPI_Type_get_true_extent(t, &tl_, &te_);                                           \
        CHECK(s_ == (int)(sz) && l_ == (MPI_Aint)(l) && e_ == (MPI_Aint)(ext) &&           \
                  tl_ == (MPI_Aint)(tl) && te_ == (MPI_Aint)(text),                        \
              "%s: size %d lb %ld extent %ld true lb %ld true extent %ld, expected %d %ld " \
              "%ld %ld %ld",                                                               \
              #t, s_, (long)l_, (long)e_, (long)tl_, (long)te_, (int)(sz), (long)(l),      \
              (long)(ext), (long)(tl), (long)(text));                                      \
    } while (0)

/* The type of struct rec, resized to sizeof(struct rec) (it already is: C's padding). */
static MPI_Datatype rec_type(void) {
    int bl[3] = {1, 1, 3};
    MPI_Aint d[3] = {offsetof(struct rec, i), offsetof(struct rec, d), offsetof(struct rec, c)};
    MPI_Datatype ty[3] = {MPI_INT, MPI_DOUBLE, MPI_CHAR}, t;
    MPI_Type_create_struct(3, bl, d, ty, &t);
    MPI_Type_commit(&t);
    return t;
}

static void pair_types(void) {
    SHAPE(MPI_DOUBLE_INT, sizeof(double) + sizeof(int), 0, sizeof(struct pair_di), 0,
          offsetof(struct pair_di, k) + sizeof(int));
    SHAPE(MPI_FLOAT_INT, sizeof(float) + sizeof(int), 0, sizeof(struct pair_fi), 0,
          offsetof(struct pair_fi, k) + sizeof(int));
    SHAPE(MPI_LONG_INT, sizeof(long) + sizeof(int), 0, sizeof(struct pair_li), 0,
          offsetof(struct pair_li, k) + sizeof(int));
    SHAPE(MPI_SHORT_INT, sizeof(short) + sizeof(int), 0, sizeof(struct pair_si), 0,
          offsetof(struct pair_si, k) + sizeof(int));
    SHAPE(MPI_2INT, 2 * sizeof(int), 0, sizeof(struct pair_ii), 0, sizeof(struct pair_ii));
    SHAPE(MPI_LONG_DOUBLE_INT, sizeof(long double) + sizeof(int), 0, sizeof(struct pair_ldi), 0,
          offsetof(struct pair_ldi, k) + sizeof(int));
    SHAPE(MPI_LONG_DOUBLE, sizeof(long double), 0, sizeof(long double), 0, sizeof(long double));
    SHAPE(MPI_C_DOUBLE_COMPLEX, 2 * sizeof(double), 0, 2 * sizeof(double), 0, 2 * sizeof(double));
    MPI_Count big = 0;
    MPI_Type_size_x(MPI_DOUBLE_INT, &big);
    CHECK(big == (MPI_Count)(sizeof(double) + sizeof(int)), "MPI_Type_size_x %lld", (long long)big);
}

static void constructors(void) {
    MPI_Datatype t, u, r;
    MPI_Type_contiguous(5, MPI_INT, &t);
    SHAPE(t, 5 * sizeof(int), 0, sizeof(int[5]), 0, sizeof(int[5]));
    MPI_Type_free(&t);
    CHECK(t == MPI_DATATYPE_NULL, "MPI_Type_free did not set the handle to MPI_DATATYPE_NULL");

    double m[4][5];
    MPI_Type_vector(4, 1, 5, MPI_DOUBLE, &t); /* a column */
    SHAPE(t, 4 * sizeof(double), 0, (char *)&m[3][1] - (char *)&m[0][0], 0,
          (char *)&m[3][1] - (char *)&m[0][0]);
    MPI_Type_free(&t);
    MPI_Type_vector(3, 2, -4, MPI_INT, &t); /* a negative stride */
    SHAPE(t, 6 * sizeof(int), -8 * (MPI_Aint)sizeof(int), 10 * sizeof(int),
          -8 * (MPI_Aint)sizeof(int), 10 * sizeof(int));
    MPI_Type_free(&t);
    MPI_Type_create_hvector(3, 2, sizeof(struct rec), MPI_INT, &t);
    SHAPE(t, 6 * sizeof(int), 0, 2 * sizeof(struct rec) + 2 * sizeof(int), 0,
          2 * sizeof(struct rec) + 2 * sizeof(int));
    MPI_Type_free(&t);

    int bl[3] = {2, 1, 0}, disp[3] = {5, -3, 100};
    MPI_Type_indexed(3, bl, disp, MPI_INT, &t); /* the empty block does not count */
    SHAPE(t, 3 * sizeof(int), -3 * (MPI_Aint)sizeof(int), 10 * sizeof(int),
          -3 * (MPI_Aint)sizeof(int), 10 * sizeof(int));
    MPI_Type_free(&t);
    MPI_Aint hd[2] = {6, -2};
    MPI_Type_create_hindexed(2, bl, hd, MPI_SHORT, &t);
    SHAPE(t, 3 * sizeof(short), -2, 12, -2, 12);
    MPI_Type_free(&t);
    int bd[3] = {0, 4, 8};
    MPI_Type_create_indexed_block(3, 2, bd, MPI_SHORT, &t);
    SHAPE(t, 6 * sizeof(short), 0, 10 * sizeof(short), 0, 10 * sizeof(short));
    MPI_Type_free(&t);

    t = rec_type();
    SHAPE(t, sizeof(int) + sizeof(double) + 3, 0, sizeof(struct rec), 0,
          offsetof(struct rec, c) + 3);
    MPI_Type_contiguous(2, t, &u); /* an array of two: C's array stride */
    SHAPE(u, 2 * (sizeof(int) + sizeof(double) + 3), 0, sizeof(struct rec[2]), 0,
          sizeof(struct rec) + offsetof(struct rec, c) + 3);
    MPI_Type_free(&u);
    MPI_Type_free(&t);
    struct dc { double d; char c; };
    int one[2] = {1, 1};
    MPI_Aint dcd[2] = {offsetof(struct dc, d), offsetof(struct dc, c)};
    MPI_Datatype dct[2] = {MPI_DOUBLE, MPI_CHAR};
    MPI_Type_create_struct(2, one, dcd, dct, &t); /* padded to 16, as C pads it */
    SHAPE(t, sizeof(double) + 1, 0, sizeof(struct dc), 0, sizeof(double) + 1);
    MPI_Type_free(&t);

    MPI_Type_create_resized(MPI_INT, -4, 12, &r);
    SHAPE(r, sizeof(int), -4, 12, 0, sizeof(int));
    MPI_Type_contiguous(2, r, &u);
    SHAPE(u, 2 * sizeof(int), -4, 24, 0, 12 + sizeof(int));
    MPI_Type_free(&r); /* u stays usable */
    SHAPE(u, 2 * sizeof(int), -4, 24, 0, 12 + sizeof(int));
    MPI_Type_free(&u);
    MPI_Type_dup(MPI_DOUBLE_INT, &t);
    SHAPE(t, sizeof(double) + sizeof(int), 0, sizeof(struct pair_di), 0,
          offsetof(struct pair_di, k) + sizeof(int));
    MPI_Type_free(&t);
    MPI_Type_contiguous(0, MPI_INT, &t);
    SHAPE(t, 0, 0, 0, 0, 0);
    MPI_Type_free(&t);
}

static void names(void) {
    char name[MPI_MAX_OBJECT_NAME];
    int len = -1;
    MPI_Type_get_name(MPI_INT, name, &len);
    CHECK(strcmp(name, "MPI_INT") == 0 && len == 7, "MPI_INT is named '%s' (%d)", name, len);
    MPI_Type_get_name(MPI_DOUBLE_INT, name, &len);
    CHECK(strcmp(name, "MPI_DOUBLE_INT") == 0, "MPI_DOUBLE_INT is named '%s'", name);
    MPI_Type_get_name(MPI_UNSIGNED_LONG, name, &len);
    CHECK(strcmp(name, "MPI_UNSIGNED_LONG") == 0, "MPI_UNSIGNED_LONG is named '%s'", name);
    MPI_Datatype t;
    MPI_Type_vector(2, 1, 3, MPI_FLOAT, &t);
    MPI_Type_get_name(t, name, &len);
    CHECK(len == 0 && name[0] == 0, "a new type is named '%s' (%d)", name, len);
    MPI_Type_set_name(t, "column");
    MPI_Type_get_name(t, name, &len);
    CHECK(strcmp(name, "column") == 0 && len == 6, "the type is named '%s' (%d)", name, len);
    MPI_Type_free(&t);
}

static void errors(void) {
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_set_errhandler(MPI_COMM_SELF, MPI_ERRORS_RETURN);
    MPI_Datatype t = MPI_DATATYPE_NULL;
    CHECK_RC(MPI_Type_contiguous(-1, MPI_INT, &t), MPI_ERR_COUNT);
    CHECK_RC(MPI_Type_contiguous(2, MPI_DATATYPE_NULL, &t), MPI_ERR_TYPE);
    CHECK_RC(MPI_Type_vector(-2, 1, 1, MPI_INT, &t), MPI_ERR_COUNT);
    MPI_Datatype pre = MPI_INT;
    CHECK_RC(MPI_Type_free(&pre), MPI_ERR_TYPE);
#ifndef MPICH_VERSION
    /* MPICH does not check outsize and insize: it packs what fits and returns success. */
    int buf[4] = {1, 2, 3, 4}, pos = 0;
    char out[8];
    CHECK_RC(MPI_Pack(buf, 4, MPI_INT, out, sizeof out, &pos, MPI_COMM_WORLD), MPI_ERR_TRUNCATE);
    CHECK(pos == 0, "a failed MPI_Pack moved the position to %d", pos);
    pos = 4;
    CHECK_RC(MPI_Unpack(out, sizeof out, &pos, buf, 2, MPI_INT, MPI_COMM_WORLD), MPI_ERR_TRUNCATE);
#endif
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_ARE_FATAL);
    MPI_Comm_set_errhandler(MPI_COMM_SELF, MPI_ERRORS_ARE_FATAL);
}

static void pack_unpack(void) {
    double m[4][5], n[4][5];
    for (int r = 0; r < 4; r++)
        for (int c = 0; c < 5; c++) m[r][c] = 10 * r + c, n[r][c] = -1;
    MPI_Datatype col, rec;
    MPI_Type_vector(4, 1, 5, MPI_DOUBLE, &col);
    MPI_Type_commit(&col);
    int need = 0, pos = 0;
    MPI_Pack_size(2, col, MPI_COMM_WORLD, &need);
    CHECK(need >= (int)(8 * sizeof(double)), "MPI_Pack_size of two columns: %d", need);
    char packed[1024];
    MPI_Pack(&m[0][1], 1, col, packed, sizeof packed, &pos, MPI_COMM_WORLD);
    MPI_Pack(&m[0][3], 1, col, packed, sizeof packed, &pos, MPI_COMM_WORLD);
    int end = pos;
    pos = 0;
    double flat[8];
    MPI_Unpack(packed, end, &pos, flat, 4, MPI_DOUBLE, MPI_COMM_WORLD);
    MPI_Unpack(packed, end, &pos, &n[0][4], 1, col, MPI_COMM_WORLD);
    CHECK(pos == end, "unpacked %d of %d bytes", pos, end);
    for (int r = 0; r < 4; r++) {
        CHECK(flat[r] == 10 * r + 1, "column 1 row %d packed as %g", r, flat[r]);
        CHECK(n[r][4] == 10 * r + 3, "column 3 row %d unpacked as %g", r, n[r][4]);
        CHECK(n[r][0] == -1 && n[r][3] == -1, "row %d: a column that was not unpacked changed", r);
    }

    rec = rec_type();
    struct rec a[3], b[3];
    memset(b, 0, sizeof b);
    for (int k = 0; k < 3; k++) a[k] = (struct rec){k, k + 0.5, {'a' + k, 'b', 'c'}};
    pos = 0;
    MPI_Pack(a, 3, rec, packed, sizeof packed, &pos, MPI_COMM_WORLD);
    end = pos;
    pos = 0;
    MPI_Unpack(packed, end, &pos, b, 3, rec, MPI_COMM_WORLD);
    for (int k = 0; k < 3; k++)
        CHECK(b[k].i == k && b[k].d == k + 0.5 && b[k].c[0] == 'a' + k && b[k].c[2] == 'c',
              "struct %d after pack and unpack: %d %g %c", k, b[k].i, b[k].d, b[k].c[0]);
    MPI_Type_free(&rec);
    MPI_Type_free(&col);
}

/* A struct of absolute addresses used with MPI_BOTTOM (MPICH's MPI_Pack refuses a null
 * inbuf, so only the message path is tried here). */
static void bottom(void) {
    int x = 7, x2 = 0;
    double y[2] = {1.5, 2.5}, y2[2] = {0, 0};
    MPI_Aint ax, ay, ax2, ay2;
    MPI_Get_address(&x, &ax);
    MPI_Get_address(y, &ay);
    MPI_Get_address(&x2, &ax2);
    MPI_Get_address(y2, &ay2);
    CHECK(MPI_Aint_diff(ay, ax) == (char *)y - (char *)&x, "MPI_Aint_diff");
    CHECK(MPI_Aint_add(ax, (char *)y - (char *)&x) == ay, "MPI_Aint_add");
    int bl[2] = {1, 2};
    MPI_Aint from[2] = {ax, ay}, to[2] = {ax2, ay2};
    MPI_Datatype ty[2] = {MPI_INT, MPI_DOUBLE}, src, dst;
    MPI_Type_create_struct(2, bl, from, ty, &src);
    MPI_Type_create_struct(2, bl, to, ty, &dst);
    MPI_Type_commit(&src);
    MPI_Type_commit(&dst);
    MPI_Sendrecv(MPI_BOTTOM, 1, src, 0, 1, MPI_BOTTOM, 1, dst, 0, 1, MPI_COMM_SELF,
                 MPI_STATUS_IGNORE);
    CHECK(x2 == 7 && y2[0] == 1.5 && y2[1] == 2.5, "received at MPI_BOTTOM: %d %g %g", x2, y2[0],
          y2[1]);
    MPI_Type_free(&src);
    MPI_Type_free(&dst);
}

/* A column of a matrix goes to `to` (itself or the next rank) and arrives as contiguous
 * doubles; then contiguous doubles arrive as a column. */
static void columns(MPI_Comm comm, int to, int from, int sender) {
    int who = rank;
    double m[4][5], flat[4], n[4][5];
    for (int r = 0; r < 4; r++)
        for (int c = 0; c < 5; c++) m[r][c] = 100 * who + 10 * r + c, n[r][c] = -1;
    MPI_Datatype col;
    MPI_Type_vector(4, 1, 5, MPI_DOUBLE, &col);
    MPI_Type_commit(&col);
    MPI_Status st;
    MPI_Sendrecv(&m[0][2], 1, col, to, 2, flat, 4, MPI_DOUBLE, from, 2, comm, &st);
    int got = -1;
    MPI_Get_count(&st, MPI_DOUBLE, &got);
    CHECK(got == 4, "received %d doubles", got);
    for (int r = 0; r < 4; r++)
        CHECK(flat[r] == 100 * sender + 10 * r + 2, "row %d of the column arrived as %g", r,
              flat[r]);
    for (int r = 0; r < 4; r++) flat[r] = 100 * who + r;
    MPI_Sendrecv(flat, 4, MPI_DOUBLE, to, 3, &n[0][1], 1, col, from, 3, comm, &st);
    MPI_Get_count(&st, col, &got);
    CHECK(got == 1, "received %d columns", got);
    for (int r = 0; r < 4; r++) {
        CHECK(n[r][1] == 100 * sender + r, "row %d of the received column is %g", r, n[r][1]);
        CHECK(n[r][0] == -1 && n[r][2] == -1, "row %d: received outside the column", r);
    }
    MPI_Type_free(&col);
}

/* Structs around the ring, then short messages and partial elements. */
static void structs_and_counts(void) {
    int to = (rank + 1) % size, from = (rank + size - 1) % size;
    MPI_Datatype rec = rec_type();
    struct rec a[3], b[4];
    memset(b, 0, sizeof b);
    for (int k = 0; k < 3; k++) a[k] = (struct rec){rank * 10 + k, rank + k * 0.25, {'x', 'y', 'a' + k}};
    MPI_Status st;
    MPI_Sendrecv(a, 3, rec, to, 4, b, 4, rec, from, 4, MPI_COMM_WORLD, &st);
    int count = -1, elems = -1;
    MPI_Get_count(&st, rec, &count);
    MPI_Get_elements(&st, rec, &elems);
    CHECK(count == 3 && elems == 15, "3 of 4 structs: count %d elements %d", count, elems);
    for (int k = 0; k < 3; k++)
        CHECK(b[k].i == from * 10 + k && b[k].d == from + k * 0.25 && b[k].c[2] == 'a' + k,
              "struct %d from rank %d: %d %g %c", k, from, b[k].i, b[k].d, b[k].c[2]);
    CHECK(b[3].i == 0 && b[3].d == 0, "the fourth struct was written");

    /* The first members of a struct: a partial element. */
    int bl[3] = {1, 1, 2};
    MPI_Aint d[3] = {offsetof(struct rec, i), offsetof(struct rec, d), offsetof(struct rec, c)};
    MPI_Datatype ty[3] = {MPI_INT, MPI_DOUBLE, MPI_CHAR}, part;
    for (int members = 1; members <= 3; members++) {
        MPI_Type_create_struct(members, bl, d, ty, &part);
        MPI_Type_commit(&part);
        MPI_Sendrecv(a, 1, part, to, 5, b, 2, rec, from, 5, MPI_COMM_WORLD, &st);
        MPI_Get_count(&st, rec, &count);
        MPI_Get_elements(&st, rec, &elems);
        int want = members == 3 ? 4 : members;
        CHECK(count == MPI_UNDEFINED && elems == want,
              "%d members of a struct: count %d (MPI_UNDEFINED %d) elements %d, expected %d",
              members, count, MPI_UNDEFINED, elems, want);
        MPI_Type_free(&part);
    }
    /* Fewer basic elements than posted. */
    int v[6] = {1, 2, 3, 4, 5, 6}, w[8];
    MPI_Sendrecv(v, 6, MPI_INT, to, 6, w, 8, MPI_INT, from, 6, MPI_COMM_WORLD, &st);
    MPI_Get_count(&st, MPI_INT, &count);
    MPI_Get_elements(&st, MPI_INT, &elems);
    CHECK(count == 6 && elems == 6, "6 of 8 ints: count %d elements %d", count, elems);
    MPI_Datatype pairs;
    MPI_Type_contiguous(2, MPI_INT, &pairs);
    MPI_Type_commit(&pairs);
    MPI_Get_count(&st, pairs, &count);
    MPI_Get_elements(&st, pairs, &elems);
    CHECK(count == 3 && elems == 6, "6 ints as pairs: count %d elements %d", count, elems);
    MPI_Sendrecv(v, 5, MPI_INT, to, 7, w, 4, pairs, from, 7, MPI_COMM_WORLD, &st);
    MPI_Get_count(&st, pairs, &count);
    MPI_Get_elements(&st, pairs, &elems);
    CHECK(count == MPI_UNDEFINED && elems == 5, "5 ints as pairs: count %d elements %d", count,
          elems);
    MPI_Type_free(&pairs);
    MPI_Type_free(&rec);
}

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    pair_types();
    constructors();
    names();
    errors();
    pack_unpack();
    bottom();
    columns(MPI_COMM_SELF, 0, 0, rank);

    int prev = (rank + size - 1) % size;
    columns(MPI_COMM_WORLD, (rank + 1) % size, prev, prev);
    structs_and_counts();
    FINISH("datatypes");
}
