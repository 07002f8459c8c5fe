/* MPI_Abort: rank 1 aborts the job with error code 7 while the others wait in a collective
 * that cannot complete without it; the job must end at once with exit code 7 (the test
 * checks the code, the message and that no rank passed). */
#include "mpitest.h"

int main(int argc, char **argv) {
    int rank;
    MPI_Comm dup;
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    printf("rank %d started\n", rank);
    if (rank == 1) {
        fflush(stdout);
        MPI_Abort(MPI_COMM_WORLD, 7);
        printf("MPI_Abort returned on rank %d\n", rank);
    }
    MPI_Comm_split(MPI_COMM_WORLD, 0, 0, &dup);
    FINISH("abort");
}
