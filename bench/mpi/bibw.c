/*
 * osu_bibw's loop written against MPI, to measure pip-rs's libmpi, MPICH and Open MPI with the
 * same program (bench/compare builds it once per library):
 *
 *   mpicc.mpich -O2 -o bibw-mpich bibw.c && mpirun.mpich -n 2 ./bibw-mpich [-m MIN:MAX] [-i N] [-x N] [-W N]
 *
 * OSU 7.x's method: per iteration, each rank posts WINDOW (default 64) MPI_Irecv from its peer
 * into one buffer, then WINDOW MPI_Isend of one buffer to it, and waits for its sends and then
 * its receives (two MPI_Waitall); no reply message, since the traffic is already both ways.
 * Bandwidth in MB/s (10^6 bytes per second) counts both directions: SIZE * WINDOW * 2 per
 * iteration. 100/10 iterations up to 8 KiB, 20/2 above; sizes 1 B to 4 MiB. Written for
 * pip-rs; not OSU's code.
 */
#include "common.h"

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    struct opts o = {1, 1 << 22, 100, 10, 20, 2, 64};
    opt_parse(argc, argv, &o);
    if (size != 2) {
        if (rank == 0) fprintf(stderr, "bibw: run with exactly 2 ranks\n");
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    if (o.window < 1) o.window = 1;
    char *sbuf = malloc(o.max_size + 1), *rbuf = malloc(o.max_size + 1);
    memset(sbuf, 'a', o.max_size + 1);
    memset(rbuf, 'b', o.max_size + 1);
    MPI_Request *sreq = malloc(o.window * sizeof *sreq), *rreq = malloc(o.window * sizeof *rreq);
    int peer = 1 - rank;
    /* OSU's tags: rank 0 receives with 10 and sends with 100, rank 1 the other way round. */
    int send_tag = rank == 0 ? 100 : 10, recv_tag = rank == 0 ? 10 : 100;
    if (rank == 0) {
        printf("# OSU MPI Bi-Directional Bandwidth Test v7.4 (pip-rs's MPI twin: %s)\n", library());
        printf("%-10s%18s\n", "# Size", "Bandwidth (MB/s)");
        fflush(stdout);
    }
    for (size_t s = first_size(o.min_size > 0 ? o.min_size : 1); s <= o.max_size; s = next_size(s)) {
        long n = s > 8192 ? o.iters_large : o.iters;
        long k = s > 8192 ? o.skip_large : o.skip;
        MPI_Barrier(MPI_COMM_WORLD);
        double start = 0;
        for (long i = 0; i < n + k; i++) {
            if (i == k) start = MPI_Wtime();
            for (long w = 0; w < o.window; w++)
                MPI_Irecv(rbuf, (int)s, MPI_CHAR, peer, recv_tag, MPI_COMM_WORLD, &rreq[w]);
            for (long w = 0; w < o.window; w++)
                MPI_Isend(sbuf, (int)s, MPI_CHAR, peer, send_tag, MPI_COMM_WORLD, &sreq[w]);
            MPI_Waitall((int)o.window, sreq, MPI_STATUSES_IGNORE);
            MPI_Waitall((int)o.window, rreq, MPI_STATUSES_IGNORE);
        }
        double t = MPI_Wtime() - start;
        if (rank == 0) {
            printf("%-10zu%18.2f\n", s, (double)s * o.window * n * 2 / 1e6 / t);
            fflush(stdout);
        }
    }
    free(sreq);
    free(rreq);
    free(sbuf);
    free(rbuf);
    MPI_Finalize();
    return 0;
}
