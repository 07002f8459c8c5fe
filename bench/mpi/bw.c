/*
 * osu_bw's loop written against MPI, to measure the system's MPICH and Open MPI in the same
 * run as pip-rs's osu_bw (bench/src/bw.rs). With -b it is osu_bibw's loop instead.
 *
 *   mpicc.mpich -O2 -o bw-mpich bw.c && mpirun.mpich -n 2 ./bw-mpich [-b] [-m MIN:MAX] [-i N] [-x N] [-W N]
 *
 * Rank 0 starts WINDOW (default 64) MPI_Isend of one buffer and waits for them; rank 1 posts
 * WINDOW MPI_Irecv into one buffer, waits, and answers with 4 bytes. Bandwidth in MB/s
 * (10^6 bytes per second); 100/10 iterations up to 8 KiB, 20/2 above; sizes 1 B to 4 MiB.
 */
#include "common.h"

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    int bidir = 0;
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "-b")) {
            bidir = 1;
            for (int j = i; j + 1 < argc; j++) argv[j] = argv[j + 1];
            argc--;
            break;
        }
    struct opts o = {1, 1 << 22, 100, 10, 20, 2, 64};
    opt_parse(argc, argv, &o);
    if (size != 2) {
        if (rank == 0) fprintf(stderr, "bw: run with exactly 2 ranks\n");
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    char *sbuf = malloc(o.max_size + 4), *rbuf = malloc(o.max_size + 4);
    memset(sbuf, 'a', o.max_size + 4);
    memset(rbuf, 'b', o.max_size + 4);
    MPI_Request *req = malloc(2 * o.window * sizeof *req);
    int peer = 1 - rank;
    if (rank == 0) {
        printf("# OSU MPI %s Test v7.4 (pip-rs's MPI twin: %s)\n",
               bidir ? "Bi-Directional Bandwidth" : "Bandwidth", library());
        printf("%-10s%18s\n", "# Size", "Bandwidth (MB/s)");
        fflush(stdout);
    }
    for (size_t s = first_size(o.min_size); s <= o.max_size; s = next_size(s)) {
        long n = s > 8192 ? o.iters_large : o.iters;
        long k = s > 8192 ? o.skip_large : o.skip;
        MPI_Barrier(MPI_COMM_WORLD);
        double start = 0;
        for (long i = 0; i < n + k; i++) {
            if (i == k) start = MPI_Wtime();
            if (bidir) {
                for (long w = 0; w < o.window; w++)
                    MPI_Irecv(rbuf, (int)s, MPI_CHAR, peer, 100, MPI_COMM_WORLD, &req[w]);
                for (long w = 0; w < o.window; w++)
                    MPI_Isend(sbuf, (int)s, MPI_CHAR, peer, 100, MPI_COMM_WORLD, &req[o.window + w]);
                MPI_Waitall((int)(2 * o.window), req, MPI_STATUSES_IGNORE);
            } else if (rank == 0) {
                for (long w = 0; w < o.window; w++)
                    MPI_Isend(sbuf, (int)s, MPI_CHAR, 1, 100, MPI_COMM_WORLD, &req[w]);
                MPI_Waitall((int)o.window, req, MPI_STATUSES_IGNORE);
                MPI_Recv(rbuf, 4, MPI_CHAR, 1, 101, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            } else {
                for (long w = 0; w < o.window; w++)
                    MPI_Irecv(rbuf, (int)s, MPI_CHAR, 0, 100, MPI_COMM_WORLD, &req[w]);
                MPI_Waitall((int)o.window, req, MPI_STATUSES_IGNORE);
                MPI_Send(sbuf, 4, MPI_CHAR, 0, 101, MPI_COMM_WORLD);
            }
        }
        double t = MPI_Wtime() - start;
        if (rank == 0 && s > 0) {
            double mb = (double)s * o.window * n * (bidir ? 2 : 1) / 1e6;
            printf("%-10zu%18.2f\n", s, mb / t);
            fflush(stdout);
        }
    }
    free(req);
    free(sbuf);
    free(rbuf);
    MPI_Finalize();
    return 0;
}
