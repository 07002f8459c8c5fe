/* MPI_ERRORS_ARE_FATAL, the default handler: rank 1 passes an out-of-range rank to
 * MPI_Group_incl, which must end the job with a message that names the function and the
 * rank, while the others wait in a split, which cannot complete without it. */
#include "mpitest.h"

int main(int argc, char **argv) {
    int rank, size;
    MPI_Comm dup;
    MPI_Group world, g;
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    MPI_Comm_group(MPI_COMM_WORLD, &world);
    if (rank == 1) {
        int bad = size + 5;
        MPI_Group_incl(world, 1, &bad, &g);
        printf("MPI_Group_incl returned on rank %d\n", rank);
    }
    MPI_Comm_split(MPI_COMM_WORLD, 0, 0, &dup);
    FINISH("fatal");
}
