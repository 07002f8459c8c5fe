/* Communicators: duplicates, splits (by color, by key, MPI_UNDEFINED), MPI_Comm_create and
 * MPI_Comm_create_group of a group, MPI_Comm_compare, MPI_Comm_group, MPI_Comm_free. The
 * members of each new communicator are checked through its group, translated to world ranks.
 * Messages on a communicator made after another was freed (it may get the freed one's handle)
 * reach their ranks on it, and none crosses from the world. */
#include "mpitest.h"

static int rank, size;

/* The world rank of rank r of `comm`. */
static int world_rank_of(MPI_Comm comm, int r) {
    MPI_Group g, world;
    int w = -1;
    MPI_Comm_group(comm, &g);
    MPI_Comm_group(MPI_COMM_WORLD, &world);
    MPI_Group_translate_ranks(g, 1, &r, world, &w);
    MPI_Group_free(&g);
    MPI_Group_free(&world);
    return w;
}

static int compare(MPI_Comm a, MPI_Comm b) {
    int r = -1;
    CHECK_RC(MPI_Comm_compare(a, b, &r), MPI_SUCCESS);
    return r;
}

static void dup_and_compare(void) {
    MPI_Comm dup, self_dup;
    int r = -1, s = -1, flag = -1;
    CHECK_RC(MPI_Comm_dup(MPI_COMM_WORLD, &dup), MPI_SUCCESS);
    MPI_Comm_rank(dup, &r);
    MPI_Comm_size(dup, &s);
    CHECK(r == rank && s == size, "dup: rank %d size %d", r, s);
    CHECK(compare(MPI_COMM_WORLD, MPI_COMM_WORLD) == MPI_IDENT, "world vs world");
    CHECK(compare(MPI_COMM_WORLD, dup) == MPI_CONGRUENT, "world vs its dup");
    CHECK(compare(MPI_COMM_SELF, MPI_COMM_WORLD) == (size == 1 ? MPI_CONGRUENT : MPI_UNEQUAL),
          "self vs world");
    CHECK_RC(MPI_Comm_test_inter(dup, &flag), MPI_SUCCESS);
    CHECK(flag == 0, "a duplicate of the world is an intercommunicator");
    MPI_Comm_dup(MPI_COMM_SELF, &self_dup);
    MPI_Comm_rank(self_dup, &r);
    MPI_Comm_size(self_dup, &s);
    CHECK(r == 0 && s == 1, "dup of self: rank %d size %d", r, s);
    CHECK(compare(self_dup, MPI_COMM_SELF) == MPI_CONGRUENT, "self vs its dup");
    CHECK_RC(MPI_Comm_free(&self_dup), MPI_SUCCESS);
    CHECK(self_dup == MPI_COMM_NULL, "MPI_Comm_free did not clear the handle");
    CHECK_RC(MPI_Comm_free(&dup), MPI_SUCCESS);
    CHECK(dup == MPI_COMM_NULL, "MPI_Comm_free did not clear the handle");
}

static void splits(void) {
    MPI_Comm parity, reversed, none, dup;
    int r = -1, s = -1;
    /* By parity, with the keys reversing each half. */
    CHECK_RC(MPI_Comm_split(MPI_COMM_WORLD, rank % 2, -rank, &parity), MPI_SUCCESS);
    MPI_Comm_rank(parity, &r);
    MPI_Comm_size(parity, &s);
    int mine = (size - rank % 2 + 1) / 2; /* ranks of my parity */
    CHECK(s == mine, "parity %d: size %d, expected %d", rank % 2, s, mine);
    for (int i = 0; i < s; i++) {
        /* The largest rank of my parity comes first. */
        int largest = (size - 1) - ((size - 1 - rank % 2) % 2);
        CHECK(world_rank_of(parity, i) == largest - 2 * i, "parity member %d is %d", i,
              world_rank_of(parity, i));
    }
    CHECK(world_rank_of(parity, r) == rank, "my rank %d in the parity split", r);
    CHECK(compare(parity, MPI_COMM_WORLD) == (size == 1 ? MPI_CONGRUENT : MPI_UNEQUAL),
          "parity vs world");
    /* Everyone in reverse order. */
    MPI_Comm_split(MPI_COMM_WORLD, 5, size - rank, &reversed);
    MPI_Comm_rank(reversed, &r);
    CHECK(r == size - 1 - rank, "reversed: rank %d", r);
    CHECK(compare(reversed, MPI_COMM_WORLD) == (size == 1 ? MPI_CONGRUENT : MPI_SIMILAR),
          "reversed vs world");
    /* A split of a split, and a duplicate of a split. */
    MPI_Comm_dup(reversed, &dup);
    CHECK(compare(dup, reversed) == MPI_CONGRUENT, "dup of reversed");
    /* Rank 0 takes no part. */
    CHECK_RC(MPI_Comm_split(dup, rank == 0 ? MPI_UNDEFINED : 1, 0, &none), MPI_SUCCESS);
    if (rank == 0) {
        CHECK(none == MPI_COMM_NULL, "MPI_UNDEFINED gave a communicator");
    } else {
        MPI_Comm_size(none, &s);
        MPI_Comm_rank(none, &r);
        CHECK(s == size - 1 && r == size - 1 - rank, "size %d rank %d", s, r);
        MPI_Comm_free(&none);
    }
    MPI_Comm_free(&dup);
    MPI_Comm_free(&reversed);
    MPI_Comm_free(&parity);
}

static void from_groups(void) {
    MPI_Group world, evens_reversed, all_reversed;
    MPI_Comm c, cg;
    int ranks[8], n = 0, r = -1, s = -1;
    MPI_Comm_group(MPI_COMM_WORLD, &world);
    for (int i = (size - 1) / 2 * 2; i >= 0; i -= 2) ranks[n++] = i;
    MPI_Group_incl(world, n, ranks, &evens_reversed);
    CHECK_RC(MPI_Comm_create(MPI_COMM_WORLD, evens_reversed, &c), MPI_SUCCESS);
    if (rank % 2) {
        CHECK(c == MPI_COMM_NULL, "an odd rank got a communicator");
    } else {
        MPI_Comm_rank(c, &r);
        MPI_Comm_size(c, &s);
        CHECK(s == n && ranks[r] == rank, "create: size %d rank %d", s, r);
        MPI_Group g;
        int result = -1;
        MPI_Comm_group(c, &g);
        MPI_Group_compare(g, evens_reversed, &result);
        CHECK(result == MPI_IDENT, "the communicator's group is not the group it was made of");
        MPI_Group_free(&g);
        MPI_Comm_free(&c);
    }
    /* MPI_Comm_create_group of every rank, reversed. */
    for (int i = 0; i < size; i++) ranks[i] = size - 1 - i;
    MPI_Group_incl(world, size, ranks, &all_reversed);
    CHECK_RC(MPI_Comm_create_group(MPI_COMM_WORLD, all_reversed, 7, &cg), MPI_SUCCESS);
    MPI_Comm_rank(cg, &r);
    CHECK(r == size - 1 - rank, "create_group: rank %d", r);
    MPI_Comm_free(&cg);
    /* MPI_Comm_create_group of the even ranks only (only they call it), while the odd ranks
     * make one of their own at the same time with the same tag. */
    int odds[8], m = 0;
    for (int i = 1; i < size; i += 2) odds[m++] = i;
    MPI_Group odd_group;
    MPI_Group_incl(world, m, odds, &odd_group);
    if (rank % 2 == 0) {
        CHECK_RC(MPI_Comm_create_group(MPI_COMM_WORLD, evens_reversed, 8, &cg), MPI_SUCCESS);
        MPI_Comm_rank(cg, &r);
        MPI_Comm_size(cg, &s);
        CHECK(s == n && world_rank_of(cg, r) == rank && r == n - 1 - rank / 2, "rank %d", r);
    } else {
        CHECK_RC(MPI_Comm_create_group(MPI_COMM_WORLD, odd_group, 8, &cg), MPI_SUCCESS);
        MPI_Comm_rank(cg, &r);
        MPI_Comm_size(cg, &s);
        CHECK(s == m && r == rank / 2, "odd group: rank %d of %d", r, s);
    }
    /* A message around the new communicator's ring, and its sum. */
    int next = (r + 1) % s, prev = (r + s - 1) % s, got = -1, sum = 0;
    MPI_Sendrecv(&rank, 1, MPI_INT, next, 0, &got, 1, MPI_INT, prev, 0, cg, MPI_STATUS_IGNORE);
    CHECK(got == world_rank_of(cg, prev), "ring: got %d", got);
    MPI_Allreduce(&rank, &sum, 1, MPI_INT, MPI_SUM, cg);
    int want = 0;
    for (int i = rank % 2; i < size; i += 2) want += i;
    CHECK(sum == want, "sum over the group: %d, expected %d", sum, want);
    MPI_Comm_free(&cg);
    MPI_Group_free(&odd_group);
    MPI_Group_free(&all_reversed);
    MPI_Group_free(&evens_reversed);
    MPI_Group_free(&world);
}

/* A receive from `prev` on `comm` with any tag: odd ranks use MPI_Irecv and MPI_Wait, even
 * ranks MPI_Recv, so the two kinds of call must agree on which communicator a handle names. */
static void receive(int *got, int prev, MPI_Comm comm, MPI_Status *st) {
    if (rank % 2) {
        MPI_Request req;
        CHECK_RC(MPI_Irecv(got, 1, MPI_INT, prev, MPI_ANY_TAG, comm, &req), MPI_SUCCESS);
        CHECK_RC(MPI_Wait(&req, st), MPI_SUCCESS);
    } else {
        CHECK_RC(MPI_Recv(got, 1, MPI_INT, prev, MPI_ANY_TAG, comm, st), MPI_SUCCESS);
    }
}

/* A token passed once around the ring of `comm` (the world's ranks in order) with `tag`: rank
 * 0 sends `value` and gets it back; every rank checks what it received. */
static void token_ring(MPI_Comm comm, int tag, int value) {
    int next = (rank + 1) % size, prev = (rank + size - 1) % size, got = -1;
    MPI_Status st;
    if (size == 1) {
        MPI_Request req;
        CHECK_RC(MPI_Isend(&value, 1, MPI_INT, 0, tag, comm, &req), MPI_SUCCESS);
        CHECK_RC(MPI_Recv(&got, 1, MPI_INT, 0, MPI_ANY_TAG, comm, &st), MPI_SUCCESS);
        CHECK_RC(MPI_Wait(&req, MPI_STATUS_IGNORE), MPI_SUCCESS);
    } else if (rank == 0) {
        CHECK_RC(MPI_Send(&value, 1, MPI_INT, next, tag, comm), MPI_SUCCESS);
        receive(&got, prev, comm, &st);
    } else {
        receive(&got, prev, comm, &st);
        CHECK_RC(MPI_Send(&got, 1, MPI_INT, next, tag, comm), MPI_SUCCESS);
    }
    CHECK(got == value && st.MPI_TAG == tag, "ring: got %d tag %d, expected %d tag %d", got,
          st.MPI_TAG, value, tag);
}

static void messages_after_free(void) {
    MPI_Comm first, second;
    int stray = 7, got = -1;
    CHECK_RC(MPI_Comm_dup(MPI_COMM_WORLD, &first), MPI_SUCCESS);
    for (int i = 0; i < 3; i++) token_ring(first, 5, 100 + i);
    CHECK_RC(MPI_Comm_free(&first), MPI_SUCCESS);
    /* A message on the world with the same tag, waiting while the new communicator works. */
    if (size > 1 && rank == 0) MPI_Send(&stray, 1, MPI_INT, 1, 5, MPI_COMM_WORLD);
    CHECK_RC(MPI_Comm_dup(MPI_COMM_WORLD, &second), MPI_SUCCESS);
    for (int i = 0; i < 3; i++) token_ring(second, 5, 200 + i);
    if (size > 1 && rank == 1) {
        CHECK_RC(MPI_Recv(&got, 1, MPI_INT, 0, 5, MPI_COMM_WORLD, MPI_STATUS_IGNORE),
                 MPI_SUCCESS);
        CHECK(got == stray, "the world's message: got %d", got);
    }
    CHECK_RC(MPI_Comm_free(&second), MPI_SUCCESS);
}

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    CHECK(size <= 8, "the test is written for at most 8 ranks");
    dup_and_compare();
    splits();
    from_groups();
    messages_after_free();
    FINISH("comm");
}
