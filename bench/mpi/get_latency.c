/*
 * osu_get_latency's method written against MPI, to measure pip-rs's libmpi, MPICH and Open MPI
 * with the same program (bench/compare builds it once per library):
 *
 *   mpicc.mpich -O2 -o get_latency-mpich get_latency.c && mpirun.mpich -n 2 ./get_latency-mpich [-m MIN:MAX] [-i N] [-x N] [-w allocate|create] [-s flush|lock|fence]
 *
 * OSU 7.x's default, and ours: a window from MPI_Win_allocate per size, a shared lock on rank
 * 1's window held over the timed loop, and per iteration MPI_Get then MPI_Win_flush(1) (the
 * data has arrived when the flush returns). See onesided.h for the loop and the other
 * synchronisations. Written for pip-rs; not OSU's code.
 */
#include "onesided.h"

static void get(char *buf, int count, int target, MPI_Win win) {
    MPI_Get(buf, count, MPI_CHAR, target, 0, count, MPI_CHAR, win);
}

int main(int argc, char **argv) {
    return run_rma(argc, argv, "Get latency", get);
}
