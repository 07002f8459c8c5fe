/* Requests: the wait and test calls over several requests with null ones mixed in,
 * persistent requests over several rounds, freeing an active send, MPI_Request_get_status.
 *
 * Every rank sends to the next rank of the ring and receives from the previous one (or from
 * itself), so the program works with any number of ranks, 1 included. */
#include "mpitest.h"

static int rank, size, next, prev;

static int is_empty(const MPI_Status *st) {
    int n = -1;
    MPI_Get_count(st, MPI_INT, &n);
    return st->MPI_SOURCE == MPI_ANY_SOURCE && st->MPI_TAG == MPI_ANY_TAG && n == 0;
}

static void null_requests(void) {
    MPI_Request reqs[3] = {MPI_REQUEST_NULL, MPI_REQUEST_NULL, MPI_REQUEST_NULL};
    MPI_Status st, sts[3];
    int index = 0, flag = 0, outcount = 0, indices[3];
    MPI_Wait(&reqs[0], &st);
    CHECK(is_empty(&st), "MPI_Wait on a null request gives an empty status");
    MPI_Test(&reqs[0], &flag, &st);
    CHECK(flag && is_empty(&st), "MPI_Test on a null request");
    MPI_Waitall(3, reqs, sts);
    CHECK(is_empty(&sts[2]), "MPI_Waitall of null requests");
    MPI_Waitany(3, reqs, &index, &st);
    CHECK(index == MPI_UNDEFINED && is_empty(&st), "MPI_Waitany of null requests: %d", index);
    MPI_Testany(3, reqs, &index, &flag, &st);
    CHECK(flag && index == MPI_UNDEFINED, "MPI_Testany of null requests: %d %d", flag, index);
    MPI_Waitsome(3, reqs, &outcount, indices, sts);
    CHECK(outcount == MPI_UNDEFINED, "MPI_Waitsome of null requests: %d", outcount);
    MPI_Testsome(3, reqs, &outcount, indices, sts);
    CHECK(outcount == MPI_UNDEFINED, "MPI_Testsome of null requests: %d", outcount);
    MPI_Testall(3, reqs, &flag, sts);
    CHECK(flag, "MPI_Testall of null requests");
    MPI_Waitall(0, NULL, MPI_STATUSES_IGNORE);
}

static void waitall_mixed(void) {
    int out = rank, in = -1;
    MPI_Request reqs[4] = {MPI_REQUEST_NULL, MPI_REQUEST_NULL, MPI_REQUEST_NULL, MPI_REQUEST_NULL};
    MPI_Status sts[4];
    MPI_Irecv(&in, 1, MPI_INT, prev, 1, MPI_COMM_WORLD, &reqs[1]);
    MPI_Isend(&out, 1, MPI_INT, next, 1, MPI_COMM_WORLD, &reqs[3]);
    MPI_Waitall(4, reqs, sts);
    CHECK(in == prev && sts[1].MPI_SOURCE == prev && sts[1].MPI_TAG == 1, "waitall got %d", in);
    CHECK(is_empty(&sts[0]) && is_empty(&sts[2]), "null requests give empty statuses");
    CHECK(reqs[1] == MPI_REQUEST_NULL && reqs[3] == MPI_REQUEST_NULL, "requests released");
}

/* Receives of three tags from oneself, sent in reverse order. */
static void any_and_some(void) {
    int in[3] = {-1, -1, -1}, out[3] = {10, 11, 12}, seen[3] = {0}, k, index, flag, outcount;
    int indices[5];
    MPI_Request reqs[5], sreqs[3];
    MPI_Status st, sts[5];
    /* MPI_Waitany, with null requests around. */
    reqs[0] = reqs[4] = MPI_REQUEST_NULL;
    for (k = 0; k < 3; k++) MPI_Irecv(&in[k], 1, MPI_INT, rank, 20 + k, MPI_COMM_WORLD, &reqs[k + 1]);
    MPI_Testany(5, reqs, &index, &flag, &st);
    CHECK(!flag && index == MPI_UNDEFINED, "MPI_Testany before any send: %d %d", flag, index);
    MPI_Testsome(5, reqs, &outcount, indices, sts);
    CHECK(outcount == 0, "MPI_Testsome before any send: %d", outcount);
    for (k = 2; k >= 0; k--) MPI_Isend(&out[k], 1, MPI_INT, rank, 20 + k, MPI_COMM_WORLD, &sreqs[k]);
    for (k = 0; k < 3; k++) {
        MPI_Waitany(5, reqs, &index, &st);
        CHECK(index >= 1 && index <= 3 && !seen[index - 1], "MPI_Waitany index %d", index);
        if (index >= 1 && index <= 3) {
            seen[index - 1] = 1;
            CHECK(st.MPI_TAG == 20 + index - 1 && reqs[index] == MPI_REQUEST_NULL,
                  "tag %d", st.MPI_TAG);
        }
    }
    MPI_Waitany(5, reqs, &index, &st);
    CHECK(index == MPI_UNDEFINED, "all done: %d", index);
    CHECK(in[0] == 10 && in[1] == 11 && in[2] == 12, "got %d %d %d", in[0], in[1], in[2]);
    MPI_Waitall(3, sreqs, MPI_STATUSES_IGNORE);
    /* MPI_Waitsome until every request is reported, each once. */
    for (k = 0; k < 3; k++) MPI_Irecv(&in[k], 1, MPI_INT, prev, 30 + k, MPI_COMM_WORLD, &reqs[k + 1]);
    for (k = 0; k < 3; k++) MPI_Isend(&out[k], 1, MPI_INT, next, 30 + k, MPI_COMM_WORLD, &sreqs[k]);
    int reported = 0;
    memset(seen, 0, sizeof seen);
    while (1) {
        MPI_Waitsome(5, reqs, &outcount, indices, sts);
        if (outcount == MPI_UNDEFINED) break;
        CHECK(outcount >= 1, "MPI_Waitsome reported %d", outcount);
        for (k = 0; k < outcount; k++) {
            int i = indices[k];
            CHECK(i >= 1 && i <= 3 && !seen[i - 1] && sts[k].MPI_TAG == 30 + i - 1,
                  "index %d tag %d", i, sts[k].MPI_TAG);
            if (i >= 1 && i <= 3) seen[i - 1] = 1;
            reported++;
        }
    }
    CHECK(reported == 3, "reported %d", reported);
    /* MPI_Testsome/MPI_Testall on the sends until they are done. */
    flag = 0;
    while (!flag) MPI_Testall(3, sreqs, &flag, MPI_STATUSES_IGNORE);
    CHECK(sreqs[0] == MPI_REQUEST_NULL && sreqs[2] == MPI_REQUEST_NULL, "sends released");
}

static void testall_pending(void) {
    int in = -1, out = 42, flag = 1;
    MPI_Request reqs[2] = {MPI_REQUEST_NULL, MPI_REQUEST_NULL}, sreq;
    MPI_Irecv(&in, 1, MPI_INT, rank, 40, MPI_COMM_WORLD, &reqs[1]);
    MPI_Testall(2, reqs, &flag, MPI_STATUSES_IGNORE);
    CHECK(!flag && reqs[1] != MPI_REQUEST_NULL, "MPI_Testall of a pending receive");
    MPI_Test(&reqs[1], &flag, MPI_STATUS_IGNORE);
    CHECK(!flag, "MPI_Test of a pending receive");
    MPI_Isend(&out, 1, MPI_INT, rank, 40, MPI_COMM_WORLD, &sreq);
    while (!flag) MPI_Testall(2, reqs, &flag, MPI_STATUSES_IGNORE);
    CHECK(in == 42 && reqs[1] == MPI_REQUEST_NULL, "got %d", in);
    flag = 0;
    while (!flag) MPI_Test(&sreq, &flag, MPI_STATUS_IGNORE);
}

static void persistent(void) {
    int out = 0, in = -1, round, flag = 0;
    MPI_Request reqs[2];
    MPI_Status sts[2], st;
    MPI_Recv_init(&in, 1, MPI_INT, prev, 50, MPI_COMM_WORLD, &reqs[0]);
    MPI_Send_init(&out, 1, MPI_INT, next, 50, MPI_COMM_WORLD, &reqs[1]);
    /* Inactive requests complete at once with an empty status. */
    MPI_Wait(&reqs[0], &st);
    CHECK(reqs[0] != MPI_REQUEST_NULL && is_empty(&st), "an inactive request");
    MPI_Test(&reqs[1], &flag, &st);
    CHECK(flag && reqs[1] != MPI_REQUEST_NULL, "testing an inactive request");
    for (round = 0; round < 5; round++) {
        out = round * 100 + rank;
        MPI_Startall(2, reqs);
        MPI_Waitall(2, reqs, sts);
        CHECK(in == round * 100 + prev && sts[0].MPI_SOURCE == prev, "round %d got %d", round, in);
        CHECK(reqs[0] != MPI_REQUEST_NULL && reqs[1] != MPI_REQUEST_NULL, "requests kept");
    }
    /* Started one at a time, completed with MPI_Wait. */
    for (round = 0; round < 3; round++) {
        out = -round - rank;
        MPI_Start(&reqs[0]);
        MPI_Start(&reqs[1]);
        MPI_Wait(&reqs[1], MPI_STATUS_IGNORE);
        MPI_Wait(&reqs[0], &st);
        CHECK(in == -round - prev, "round %d got %d", round, in);
    }
    MPI_Request_free(&reqs[0]);
    MPI_Request_free(&reqs[1]);
    CHECK(reqs[0] == MPI_REQUEST_NULL && reqs[1] == MPI_REQUEST_NULL, "freed");
    /* A persistent synchronous send, its receive started first. */
    MPI_Recv_init(&in, 1, MPI_INT, prev, 51, MPI_COMM_WORLD, &reqs[0]);
    MPI_Ssend_init(&out, 1, MPI_INT, next, 51, MPI_COMM_WORLD, &reqs[1]);
    for (round = 0; round < 3; round++) {
        out = round + 7 * rank;
        MPI_Startall(2, reqs);
        MPI_Waitall(2, reqs, MPI_STATUSES_IGNORE);
        CHECK(in == round + 7 * prev, "ssend round %d got %d", round, in);
    }
    MPI_Request_free(&reqs[0]);
    MPI_Request_free(&reqs[1]);
}

/* A freed send still goes out; the receiver acknowledges it so the sender may free its
 * buffer. */
static void free_active(void) {
    enum { BIG = 300000 };
    char *out = malloc(BIG), *in = malloc(BIG);
    int ack = 0, acked = -1;
    MPI_Request req;
    memset(out, 'f' + rank % 10, BIG);
    MPI_Isend(out, BIG, MPI_CHAR, next, 60, MPI_COMM_WORLD, &req);
    MPI_Request_free(&req);
    CHECK(req == MPI_REQUEST_NULL, "freed");
    MPI_Recv(in, BIG, MPI_CHAR, prev, 60, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    CHECK(in[0] == 'f' + prev % 10 && in[BIG - 1] == 'f' + prev % 10, "got '%c'", in[0]);
    MPI_Sendrecv(&ack, 1, MPI_INT, prev, 61, &acked, 1, MPI_INT, next, 61, MPI_COMM_WORLD,
                 MPI_STATUS_IGNORE);
    free(out);
    free(in);
}

static void get_status(void) {
    int in = -1, out = 9, flag = 1;
    MPI_Request req, sreq;
    MPI_Status st;
    MPI_Request_get_status(MPI_REQUEST_NULL, &flag, &st);
    CHECK(flag && is_empty(&st), "MPI_Request_get_status of a null request");
    MPI_Irecv(&in, 1, MPI_INT, rank, 70, MPI_COMM_WORLD, &req);
    MPI_Request_get_status(req, &flag, &st);
    CHECK(!flag, "a pending receive is not complete");
    MPI_Isend(&out, 1, MPI_INT, rank, 70, MPI_COMM_WORLD, &sreq);
    while (!flag) MPI_Request_get_status(req, &flag, &st);
    CHECK(req != MPI_REQUEST_NULL && st.MPI_TAG == 70 && st.MPI_SOURCE == rank,
          "get_status keeps the request: tag %d", st.MPI_TAG);
    MPI_Wait(&req, &st);
    CHECK(req == MPI_REQUEST_NULL && st.MPI_TAG == 70 && in == 9, "then MPI_Wait: %d", in);
    MPI_Wait(&sreq, MPI_STATUS_IGNORE);
}

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    next = (rank + 1) % size;
    prev = (rank + size - 1) % size;
    null_requests();
    waitall_mixed();
    any_and_some();
    testall_pending();
    persistent();
    free_active();
    get_status();
    FINISH("requests");
}
