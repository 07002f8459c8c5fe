/* Groups: size and rank, inclusion and exclusion, rank translation (MPI_PROC_NULL and
 * MPI_UNDEFINED), comparison, union, intersection and difference, MPI_GROUP_EMPTY, and the
 * error of an out-of-range rank under MPI_ERRORS_RETURN. Groups are local: no message. */
#include "mpitest.h"

static int rank, size;

static int compare(MPI_Group a, MPI_Group b) {
    int r = -1;
    CHECK_RC(MPI_Group_compare(a, b, &r), MPI_SUCCESS);
    return r;
}

static int gsize(MPI_Group g) {
    int s = -1;
    MPI_Group_size(g, &s);
    return s;
}

static int grank(MPI_Group g) {
    int r = -2;
    MPI_Group_rank(g, &r);
    return r;
}

/* Frees `g` unless it is MPI_GROUP_EMPTY (which some MPIs return for empty results). */
static void release(MPI_Group *g) {
    if (*g != MPI_GROUP_EMPTY) CHECK_RC(MPI_Group_free(g), MPI_SUCCESS);
}

int main(int argc, char **argv) {
    MPI_Group world, reversed, no_first, evens, odds, u, i, d;
    int ranks[9], out[9], n;
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    CHECK(size <= 8, "the test is written for at most 8 ranks");

    CHECK_RC(MPI_Comm_group(MPI_COMM_WORLD, &world), MPI_SUCCESS);
    CHECK(gsize(world) == size && grank(world) == rank, "world group: %d of %d", grank(world),
          gsize(world));

    /* Inclusion in reverse order, and translation back. */
    for (n = 0; n < size; n++) ranks[n] = size - 1 - n;
    CHECK_RC(MPI_Group_incl(world, size, ranks, &reversed), MPI_SUCCESS);
    CHECK(grank(reversed) == size - 1 - rank, "reversed rank %d", grank(reversed));
    CHECK(compare(reversed, world) == (size == 1 ? MPI_IDENT : MPI_SIMILAR), "reversed vs world");
    CHECK(compare(world, world) == MPI_IDENT, "world vs world");
    for (n = 0; n < size; n++) ranks[n] = n;
    ranks[size] = MPI_PROC_NULL;
    CHECK_RC(MPI_Group_translate_ranks(world, size + 1, ranks, reversed, out), MPI_SUCCESS);
    for (n = 0; n < size; n++) CHECK(out[n] == size - 1 - n, "translated %d to %d", n, out[n]);
    CHECK(out[size] == MPI_PROC_NULL, "MPI_PROC_NULL translated to %d", out[size]);

    /* Exclusion of rank 0; translation of rank 0 into it is MPI_UNDEFINED. */
    int first = 0;
    CHECK_RC(MPI_Group_excl(world, 1, &first, &no_first), MPI_SUCCESS);
    CHECK(gsize(no_first) == size - 1, "size %d", gsize(no_first));
    CHECK(grank(no_first) == (rank == 0 ? MPI_UNDEFINED : rank - 1), "rank %d", grank(no_first));
    MPI_Group_translate_ranks(world, 1, &first, no_first, out);
    CHECK(out[0] == MPI_UNDEFINED, "rank 0 translated to %d", out[0]);

    /* Evens and odds, and the set operations. */
    int ne = 0, no = 0, er[8], od[8];
    for (n = 0; n < size; n++) {
        if (n % 2) od[no++] = n;
        else er[ne++] = n;
    }
    MPI_Group_incl(world, ne, er, &evens);
    MPI_Group_incl(world, no, od, &odds);
    CHECK(gsize(odds) == no && gsize(evens) == ne, "evens %d odds %d", gsize(evens), gsize(odds));
    CHECK(grank(odds) == (rank % 2 ? rank / 2 : MPI_UNDEFINED), "odd rank %d", grank(odds));
    CHECK_RC(MPI_Group_union(evens, odds, &u), MPI_SUCCESS);
    CHECK(gsize(u) == size, "union of %d", gsize(u));
    CHECK(compare(u, world) == (size <= 2 ? MPI_IDENT : MPI_SIMILAR), "union vs world");
    CHECK_RC(MPI_Group_intersection(evens, odds, &i), MPI_SUCCESS);
    CHECK(gsize(i) == 0 && grank(i) == MPI_UNDEFINED, "intersection of %d", gsize(i));
    CHECK(compare(i, MPI_GROUP_EMPTY) == MPI_IDENT, "the empty intersection vs MPI_GROUP_EMPTY");
    CHECK_RC(MPI_Group_difference(world, evens, &d), MPI_SUCCESS);
    CHECK(compare(d, odds) == MPI_IDENT, "world - evens is not the odds");
    release(&i);
    release(&u);
    release(&d);
    CHECK_RC(MPI_Group_intersection(reversed, world, &i), MPI_SUCCESS);
    CHECK(compare(i, reversed) == MPI_IDENT, "the intersection keeps the first group's order");
    release(&i);
    CHECK(gsize(MPI_GROUP_EMPTY) == 0, "MPI_GROUP_EMPTY has members");

    /* An out-of-range rank is MPI_ERR_RANK (raised on MPI_COMM_WORLD, or MPI_COMM_SELF in
     * newer MPIs: both return). */
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_set_errhandler(MPI_COMM_SELF, MPI_ERRORS_RETURN);
    int bad = size + 5;
    MPI_Group g = MPI_GROUP_NULL;
    CHECK_RC(MPI_Group_incl(world, 1, &bad, &g), MPI_ERR_RANK);
    CHECK_RC(MPI_Group_excl(world, 1, &bad, &g), MPI_ERR_RANK);

    release(&evens);
    release(&odds);
    release(&no_first);
    CHECK_RC(MPI_Group_free(&reversed), MPI_SUCCESS);
    CHECK(reversed == MPI_GROUP_NULL, "MPI_Group_free did not clear the handle");
    MPI_Group_free(&world);
    FINISH("groups");
}
