/* The smallest MPI program: every rank knows its rank and the size, and rank 0 hears from
 * every other rank. */
#include "mpitest.h"

int main(int argc, char **argv) {
    int rank, size, flag = 0;
    MPI_Initialized(&flag);
    CHECK(!flag, "initialised before MPI_Init");
    MPI_Init(&argc, &argv);
    MPI_Initialized(&flag);
    CHECK(flag, "not initialised after MPI_Init");
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    CHECK(rank >= 0 && rank < size, "rank %d of %d", rank, size);
    printf("rank %d of %d\n", rank, size);
    FINISH("hello");
}
