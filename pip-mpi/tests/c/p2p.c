/* Point-to-point: blocking and non-blocking sends and receives with wildcards, the
 * non-overtaking order, truncation, cancelling an unmatched receive, probes and matched
 * probes, send-receive around a ring, synchronous and buffered sends, MPI_PROC_NULL, empty
 * messages, a non-contiguous predefined type, and 1 MiB messages both ways.
 *
 * Every rank sends to the next rank of the ring and receives from the previous one, so the
 * program works with any number of ranks, 1 included (then every message is a self-send). */
#include "mpitest.h"

static int rank, size, next, prev;

static void wildcards(void) {
    int out[4], in[4] = {0}, i;
    MPI_Request req;
    MPI_Status st;
    for (i = 0; i < 4; i++) out[i] = rank * 10 + i;
    /* A posted wildcard receive, then a blocking send. */
    MPI_Irecv(in, 4, MPI_INT, MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &req);
    MPI_Send(out, 4, MPI_INT, next, 100 + rank, MPI_COMM_WORLD);
    MPI_Wait(&req, &st);
    CHECK(st.MPI_SOURCE == prev && st.MPI_TAG == 100 + prev, "source %d tag %d", st.MPI_SOURCE,
          st.MPI_TAG);
    int n = -1;
    MPI_Get_count(&st, MPI_INT, &n);
    CHECK(n == 4, "count %d", n);
    CHECK(in[0] == prev * 10 && in[3] == prev * 10 + 3, "got %d %d", in[0], in[3]);
    /* An immediate send, then a blocking receive from a named source with any tag, and one
     * from any source with a named tag. */
    MPI_Isend(out, 4, MPI_INT, next, 200 + rank, MPI_COMM_WORLD, &req);
    MPI_Recv(in, 4, MPI_INT, prev, MPI_ANY_TAG, MPI_COMM_WORLD, &st);
    CHECK(st.MPI_SOURCE == prev && st.MPI_TAG == 200 + prev, "source %d tag %d", st.MPI_SOURCE,
          st.MPI_TAG);
    MPI_Wait(&req, MPI_STATUS_IGNORE);
    CHECK(req == MPI_REQUEST_NULL, "the request is released");
    MPI_Isend(out, 4, MPI_INT, next, 201, MPI_COMM_WORLD, &req);
    MPI_Recv(in, 4, MPI_INT, MPI_ANY_SOURCE, 201, MPI_COMM_WORLD, &st);
    CHECK(st.MPI_SOURCE == prev && in[1] == prev * 10 + 1, "source %d", st.MPI_SOURCE);
    MPI_Wait(&req, MPI_STATUS_IGNORE);
}

/* Messages from one sender with one tag arrive in the order sent, eager and large mixed. */
static void non_overtaking(void) {
    enum { N = 6, BIG = 200000 };
    static char out[N][BIG], in[N][BIG];
    int len[N], i;
    MPI_Request reqs[N];
    for (i = 0; i < N; i++) {
        len[i] = (i % 2) ? BIG : 8;
        memset(out[i], 'a' + i, len[i]);
        MPI_Isend(out[i], len[i], MPI_CHAR, next, 7, MPI_COMM_WORLD, &reqs[i]);
    }
    for (i = 0; i < N; i++) {
        MPI_Status st;
        int n = -1;
        MPI_Recv(in[i], BIG, MPI_CHAR, i % 2 ? prev : MPI_ANY_SOURCE, 7, MPI_COMM_WORLD, &st);
        MPI_Get_count(&st, MPI_CHAR, &n);
        CHECK(n == len[i] && in[i][0] == 'a' + i && in[i][n - 1] == 'a' + i,
              "message %d: %d bytes of '%c'", i, n, in[i][0]);
    }
    MPI_Waitall(N, reqs, MPI_STATUSES_IGNORE);
}

static void truncation(void) {
    int out[10], in[4] = {0}, i, rc, class_;
    MPI_Status st, sts[2];
    MPI_Request reqs[2];
    for (i = 0; i < 10; i++) out[i] = 1000 + i;
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    /* Blocking. */
    MPI_Isend(out, 10, MPI_INT, next, 20, MPI_COMM_WORLD, &reqs[0]);
    rc = MPI_Recv(in, 4, MPI_INT, prev, 20, MPI_COMM_WORLD, &st);
    MPI_Error_class(rc, &class_);
    CHECK(class_ == MPI_ERR_TRUNCATE, "MPI_Recv returned class %d", class_);
    CHECK(st.MPI_SOURCE == prev && st.MPI_TAG == 20, "status %d %d", st.MPI_SOURCE, st.MPI_TAG);
    /* (What the buffer holds after a truncation differs between MPIs: not checked.) */
    MPI_Wait(&reqs[0], MPI_STATUS_IGNORE);
#ifdef OPEN_MPI
    /* Open MPI 4.1 does not report the truncation of a non-blocking receive from the rank
     * itself (its self transport): those checks need a peer there. */
    if (size == 1) {
        MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_ARE_FATAL);
        return;
    }
#endif
    /* Non-blocking, with MPI_Wait. */
    MPI_Irecv(in, 4, MPI_INT, MPI_ANY_SOURCE, 21, MPI_COMM_WORLD, &reqs[1]);
    MPI_Send(out, 10, MPI_INT, next, 21, MPI_COMM_WORLD);
    rc = MPI_Wait(&reqs[1], &st);
    MPI_Error_class(rc, &class_);
    CHECK(class_ == MPI_ERR_TRUNCATE, "MPI_Wait returned class %d", class_);
    CHECK(st.MPI_SOURCE == prev && st.MPI_TAG == 21, "status %d %d", st.MPI_SOURCE, st.MPI_TAG);
    /* In MPI_Waitall, the error is in the status. */
    MPI_Irecv(in, 4, MPI_INT, prev, 22, MPI_COMM_WORLD, &reqs[0]);
    MPI_Isend(out, 10, MPI_INT, next, 22, MPI_COMM_WORLD, &reqs[1]);
    rc = MPI_Waitall(2, reqs, sts);
    MPI_Error_class(rc, &class_);
    CHECK(class_ == MPI_ERR_IN_STATUS, "MPI_Waitall returned class %d", class_);
    MPI_Error_class(sts[0].MPI_ERROR, &class_);
    CHECK(class_ == MPI_ERR_TRUNCATE, "status 0 has class %d", class_);
    CHECK(sts[0].MPI_SOURCE == prev && sts[0].MPI_TAG == 22, "status %d %d", sts[0].MPI_SOURCE,
          sts[0].MPI_TAG);
    /* The next message is not affected. */
    MPI_Sendrecv(out, 2, MPI_INT, next, 23, in, 4, MPI_INT, prev, 23, MPI_COMM_WORLD, &st);
    int n = -1;
    MPI_Get_count(&st, MPI_INT, &n);
    CHECK(n == 2 && in[1] == 1001, "count %d, %d", n, in[1]);
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_ARE_FATAL);
}

/* An unmatched receive can be cancelled; the message it would have taken goes elsewhere. */
static void cancel(void) {
    int in = -1, v = 77, flag = 0;
    MPI_Request req;
    MPI_Status st;
    MPI_Irecv(&in, 1, MPI_INT, rank, 999, MPI_COMM_WORLD, &req);
    MPI_Cancel(&req);
    MPI_Wait(&req, &st);
    MPI_Test_cancelled(&st, &flag);
    CHECK(flag, "the receive was not cancelled");
    CHECK(in == -1, "a cancelled receive wrote %d", in);
    MPI_Isend(&v, 1, MPI_INT, rank, 999, MPI_COMM_WORLD, &req);
    MPI_Recv(&in, 1, MPI_INT, rank, 999, MPI_COMM_WORLD, &st);
    CHECK(in == 77, "got %d", in);
    MPI_Test_cancelled(&st, &flag);
    CHECK(!flag, "a received message counts as cancelled");
    MPI_Wait(&req, MPI_STATUS_IGNORE);
}

static void probes(void) {
    int out[7] = {1, 2, 3, 4, 5, 6, 7}, in[7] = {0}, n = -1, flag = 0;
    MPI_Status st;
    MPI_Message msg;
    MPI_Request req, sreq;
    /* MPI_Probe, then a receive of the probed size. */
    MPI_Isend(out, 7, MPI_INT, next, 30, MPI_COMM_WORLD, &sreq);
    MPI_Probe(prev, 30, MPI_COMM_WORLD, &st);
    MPI_Get_count(&st, MPI_INT, &n);
    CHECK(st.MPI_SOURCE == prev && st.MPI_TAG == 30 && n == 7, "probe %d %d %d", st.MPI_SOURCE,
          st.MPI_TAG, n);
    MPI_Recv(in, n, MPI_INT, st.MPI_SOURCE, st.MPI_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    CHECK(in[6] == 7, "got %d", in[6]);
    MPI_Wait(&sreq, MPI_STATUS_IGNORE);
    /* MPI_Iprobe until the message is there. */
    MPI_Isend(out, 3, MPI_INT, next, 31, MPI_COMM_WORLD, &sreq);
    while (!flag) MPI_Iprobe(MPI_ANY_SOURCE, 31, MPI_COMM_WORLD, &flag, &st);
    MPI_Get_count(&st, MPI_INT, &n);
    CHECK(st.MPI_SOURCE == prev && n == 3, "iprobe %d %d", st.MPI_SOURCE, n);
    MPI_Recv(in, 7, MPI_INT, prev, 31, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    MPI_Wait(&sreq, MPI_STATUS_IGNORE);
    /* A matched probe takes the message; MPI_Mrecv receives it. */
    MPI_Isend(out, 5, MPI_INT, next, 32, MPI_COMM_WORLD, &sreq);
    MPI_Mprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &msg, &st);
    MPI_Get_count(&st, MPI_INT, &n);
    CHECK(st.MPI_SOURCE == prev && st.MPI_TAG == 32 && n == 5, "mprobe %d %d %d",
          st.MPI_SOURCE, st.MPI_TAG, n);
    memset(in, 0, sizeof in);
    MPI_Mrecv(in, n, MPI_INT, &msg, &st);
    CHECK(msg == MPI_MESSAGE_NULL && in[4] == 5 && st.MPI_TAG == 32, "mrecv %d", in[4]);
    MPI_Wait(&sreq, MPI_STATUS_IGNORE);
    /* MPI_Improbe until the message is there; MPI_Imrecv. */
    MPI_Isend(out, 6, MPI_INT, next, 33, MPI_COMM_WORLD, &sreq);
    flag = 0;
    while (!flag) MPI_Improbe(prev, 33, MPI_COMM_WORLD, &flag, &msg, &st);
    MPI_Imrecv(in, 7, MPI_INT, &msg, &req);
    MPI_Wait(&req, &st);
    MPI_Get_count(&st, MPI_INT, &n);
    CHECK(n == 6 && st.MPI_SOURCE == prev && in[5] == 6, "imrecv %d %d", n, in[5]);
    MPI_Wait(&sreq, MPI_STATUS_IGNORE);
    /* MPI_PROC_NULL. */
    MPI_Probe(MPI_PROC_NULL, 0, MPI_COMM_WORLD, &st);
    CHECK(st.MPI_SOURCE == MPI_PROC_NULL && st.MPI_TAG == MPI_ANY_TAG, "probe proc_null");
    MPI_Mprobe(MPI_PROC_NULL, 0, MPI_COMM_WORLD, &msg, &st);
    CHECK(msg == MPI_MESSAGE_NO_PROC, "mprobe of MPI_PROC_NULL gives MPI_MESSAGE_NO_PROC");
    MPI_Mrecv(in, 7, MPI_INT, &msg, &st);
    MPI_Get_count(&st, MPI_INT, &n);
    CHECK(msg == MPI_MESSAGE_NULL && st.MPI_SOURCE == MPI_PROC_NULL && n == 0, "mrecv no_proc");
}

static void ring(void) {
    int v = rank, got = -1;
    MPI_Status st;
    MPI_Sendrecv(&v, 1, MPI_INT, next, 40, &got, 1, MPI_INT, prev, 40, MPI_COMM_WORLD, &st);
    CHECK(got == prev && st.MPI_SOURCE == prev, "sendrecv got %d", got);
    MPI_Sendrecv_replace(&v, 1, MPI_INT, next, 41, prev, 41, MPI_COMM_WORLD, &st);
    CHECK(v == prev && st.MPI_TAG == 41, "sendrecv_replace got %d", v);
    /* A non-contiguous predefined type (short, gap, int) is packed and unpacked. */
    struct { short s; int i; } pairs[3], back[3];
    int k;
    for (k = 0; k < 3; k++) pairs[k].s = (short)(rank + k), pairs[k].i = rank * 100 + k;
    memset(back, 0, sizeof back);
    MPI_Sendrecv(pairs, 3, MPI_SHORT_INT, next, 42, back, 3, MPI_SHORT_INT, prev, 42,
                 MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    CHECK(back[2].s == prev + 2 && back[2].i == prev * 100 + 2, "short_int %d %d", back[2].s,
          back[2].i);
    MPI_Sendrecv_replace(pairs, 3, MPI_SHORT_INT, next, 43, prev, 43, MPI_COMM_WORLD,
                         MPI_STATUS_IGNORE);
    CHECK(pairs[1].s == prev + 1 && pairs[1].i == prev * 100 + 1, "short_int replace");
    /* The same type with immediate operations: the receive is unpacked when it completes. */
    int pp = (prev + size - 1) % size;
    MPI_Request r[2];
    memset(back, 0, sizeof back);
    MPI_Irecv(back, 3, MPI_SHORT_INT, prev, 44, MPI_COMM_WORLD, &r[0]);
    MPI_Isend(pairs, 3, MPI_SHORT_INT, next, 44, MPI_COMM_WORLD, &r[1]);
    MPI_Waitall(2, r, MPI_STATUSES_IGNORE);
    CHECK(back[0].s == pp && back[2].i == pp * 100 + 2, "short_int immediate %d %d", back[0].s,
          back[2].i);
}

static void synchronous(void) {
    int v = rank, got = -1;
    MPI_Request req;
    MPI_Irecv(&got, 1, MPI_INT, prev, 50, MPI_COMM_WORLD, &req);
    MPI_Ssend(&v, 1, MPI_INT, next, 50, MPI_COMM_WORLD);
    MPI_Wait(&req, MPI_STATUS_IGNORE);
    CHECK(got == prev, "ssend got %d", got);
    MPI_Request r2[2];
    MPI_Irecv(&got, 1, MPI_INT, prev, 51, MPI_COMM_WORLD, &r2[0]);
    MPI_Issend(&v, 1, MPI_INT, next, 51, MPI_COMM_WORLD, &r2[1]);
    MPI_Waitall(2, r2, MPI_STATUSES_IGNORE);
    CHECK(got == prev, "issend got %d", got);
    /* A synchronous send to oneself completes once a later receive takes it. */
    int flag = 1;
    MPI_Issend(&v, 1, MPI_INT, rank, 54, MPI_COMM_WORLD, &req);
    MPI_Test(&req, &flag, MPI_STATUS_IGNORE);
    CHECK(!flag, "an unmatched synchronous send is complete");
    MPI_Recv(&got, 1, MPI_INT, MPI_ANY_SOURCE, 54, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    MPI_Wait(&req, MPI_STATUS_IGNORE);
    CHECK(got == rank, "issend to self got %d", got);
    /* The ready mode: the receive is posted first. */
    MPI_Irecv(&got, 1, MPI_INT, prev, 52, MPI_COMM_WORLD, &r2[0]);
    MPI_Sendrecv(NULL, 0, MPI_INT, prev, 53, NULL, 0, MPI_INT, next, 53, MPI_COMM_WORLD,
                 MPI_STATUS_IGNORE); /* next has posted its receive */
    MPI_Rsend(&v, 1, MPI_INT, next, 52, MPI_COMM_WORLD);
    MPI_Wait(&r2[0], MPI_STATUS_IGNORE);
    CHECK(got == prev, "rsend got %d", got);
}

static void buffered(void) {
    enum { LEN = 100 };
    char out[LEN], in[LEN];
    int size_ = 3 * (LEN + MPI_BSEND_OVERHEAD) + 64, k, rc, class_;
    char *buf = malloc(size_), *back = NULL;
    int back_size = 0;
    MPI_Request req;
    MPI_Buffer_attach(buf, size_);
    for (k = 0; k < 3; k++) {
        memset(out, 'p' + k, LEN);
        MPI_Bsend(out, LEN, MPI_CHAR, next, 60 + k, MPI_COMM_WORLD);
    }
    memset(out, 0, LEN); /* the messages were copied */
    for (k = 0; k < 3; k++) {
        MPI_Recv(in, LEN, MPI_CHAR, prev, 60 + k, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        CHECK(in[0] == 'p' + k && in[LEN - 1] == 'p' + k, "bsend %d got '%c'", k, in[0]);
    }
    memset(out, 'z', LEN);
    MPI_Ibsend(out, LEN, MPI_CHAR, next, 63, MPI_COMM_WORLD, &req);
    MPI_Wait(&req, MPI_STATUS_IGNORE);
    MPI_Recv(in, LEN, MPI_CHAR, prev, 63, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    CHECK(in[5] == 'z', "ibsend got '%c'", in[5]);
    /* A message larger than the buffer does not fit. (MPI's state after an error is the
     * implementation's choice; Open MPI 4.1's later messages hang after this one, so it is
     * left out there.) */
#ifndef OPEN_MPI
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    char *huge = calloc(1, 100000);
    rc = MPI_Bsend(huge, 100000, MPI_CHAR, next, 64, MPI_COMM_WORLD);
    MPI_Error_class(rc, &class_);
    CHECK(class_ == MPI_ERR_BUFFER, "an oversized MPI_Bsend returned class %d", class_);
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_ARE_FATAL);
    free(huge);
#else
    (void)rc, (void)class_;
#endif
    MPI_Buffer_detach(&back, &back_size);
    CHECK(back == buf && back_size == size_, "detach gave %p %d", (void *)back, back_size);
    free(buf);
}

static void proc_null(void) {
    int v = 5, n = -1;
    MPI_Status st;
    MPI_Request req;
    MPI_Send(&v, 1, MPI_INT, MPI_PROC_NULL, 0, MPI_COMM_WORLD);
    MPI_Recv(&v, 1, MPI_INT, MPI_PROC_NULL, 0, MPI_COMM_WORLD, &st);
    MPI_Get_count(&st, MPI_INT, &n);
    CHECK(st.MPI_SOURCE == MPI_PROC_NULL && st.MPI_TAG == MPI_ANY_TAG && n == 0 && v == 5,
          "recv from MPI_PROC_NULL: %d %d %d", st.MPI_SOURCE, st.MPI_TAG, n);
    /* (MPICH's status of a completed MPI_Irecv from MPI_PROC_NULL is not the standard's: only
     * the count is checked.) */
    MPI_Irecv(&v, 1, MPI_INT, MPI_PROC_NULL, 0, MPI_COMM_WORLD, &req);
    MPI_Wait(&req, &st);
    MPI_Get_count(&st, MPI_INT, &n);
    CHECK(n == 0 && req == MPI_REQUEST_NULL && v == 5, "irecv proc_null: count %d", n);
    MPI_Isend(&v, 1, MPI_INT, MPI_PROC_NULL, 0, MPI_COMM_WORLD, &req);
    MPI_Wait(&req, MPI_STATUS_IGNORE);
    MPI_Sendrecv(&v, 1, MPI_INT, MPI_PROC_NULL, 0, &v, 1, MPI_INT, MPI_PROC_NULL, 0,
                 MPI_COMM_WORLD, &st);
    CHECK(st.MPI_SOURCE == MPI_PROC_NULL && v == 5, "sendrecv proc_null");
}

static void empty(void) {
    int in[10], n = -1;
    MPI_Status st;
    MPI_Request req;
    MPI_Isend(NULL, 0, MPI_INT, next, 70, MPI_COMM_WORLD, &req);
    MPI_Recv(in, 10, MPI_INT, prev, MPI_ANY_TAG, MPI_COMM_WORLD, &st);
    MPI_Get_count(&st, MPI_INT, &n);
    CHECK(n == 0 && st.MPI_TAG == 70 && st.MPI_SOURCE == prev, "empty: %d %d", n, st.MPI_TAG);
    MPI_Wait(&req, MPI_STATUS_IGNORE);
}

/* 1 MiB to the next rank and to the previous one, with immediate sends and receives. */
static void large(void) {
    enum { MIB = 1 << 20 };
    unsigned char *fwd = malloc(MIB), *bwd = malloc(MIB), *from_prev = malloc(MIB),
                  *from_next = malloc(MIB);
    MPI_Request reqs[4];
    MPI_Status sts[4];
    int k, bad = 0;
    for (k = 0; k < MIB; k++) fwd[k] = (unsigned char)(k + rank), bwd[k] = (unsigned char)(k * 3 + rank);
    MPI_Irecv(from_prev, MIB, MPI_BYTE, prev, 80, MPI_COMM_WORLD, &reqs[0]);
    MPI_Irecv(from_next, MIB, MPI_BYTE, next, 81, MPI_COMM_WORLD, &reqs[1]);
    MPI_Isend(fwd, MIB, MPI_BYTE, next, 80, MPI_COMM_WORLD, &reqs[2]);
    MPI_Isend(bwd, MIB, MPI_BYTE, prev, 81, MPI_COMM_WORLD, &reqs[3]);
    MPI_Waitall(4, reqs, sts);
    for (k = 0; k < MIB; k++) {
        bad += from_prev[k] != (unsigned char)(k + prev);
        bad += from_next[k] != (unsigned char)(k * 3 + next);
    }
    CHECK(bad == 0, "%d bytes differ", bad);
    int n = -1;
    MPI_Get_count(&sts[0], MPI_BYTE, &n);
    CHECK(n == MIB && sts[1].MPI_SOURCE == next, "count %d", n);
    free(fwd), free(bwd), free(from_prev), free(from_next);
}

/* Arguments the standard rejects, under MPI_ERRORS_RETURN. */
static void bad_arguments(void) {
    int v = 0;
    MPI_Request req = MPI_REQUEST_NULL;
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    CHECK_RC(MPI_Send(&v, -1, MPI_INT, next, 0, MPI_COMM_WORLD), MPI_ERR_COUNT);
    CHECK_RC(MPI_Send(&v, 1, MPI_INT, size, 0, MPI_COMM_WORLD), MPI_ERR_RANK);
    CHECK_RC(MPI_Send(&v, 1, MPI_INT, MPI_ANY_SOURCE, 0, MPI_COMM_WORLD), MPI_ERR_RANK);
    CHECK_RC(MPI_Send(&v, 1, MPI_INT, next, -5, MPI_COMM_WORLD), MPI_ERR_TAG);
    CHECK_RC(MPI_Isend(&v, 1, MPI_DATATYPE_NULL, next, 0, MPI_COMM_WORLD, &req), MPI_ERR_TYPE);
    CHECK_RC(MPI_Irecv(&v, 1, MPI_INT, size + 3, 0, MPI_COMM_WORLD, &req), MPI_ERR_RANK);
    CHECK_RC(MPI_Recv(&v, 1, MPI_INT, prev, -7, MPI_COMM_WORLD, MPI_STATUS_IGNORE), MPI_ERR_TAG);
    CHECK_RC(MPI_Send(&v, 1, MPI_INT, next, 0, MPI_COMM_NULL), MPI_ERR_COMM);
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_ARE_FATAL);
}

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    next = (rank + 1) % size;
    prev = (rank + size - 1) % size;
    wildcards();
    non_overtaking();
    truncation();
    cancel();
    probes();
    ring();
    synchronous();
    buffered();
    proc_null();
    empty();
    large();
    bad_arguments();
    FINISH("p2p");
}
