/* A put outside any access epoch. Windows report errors to MPI_ERRORS_ARE_FATAL (there is no
 * portable way to make them return here), so this program is run by pip-rs's tests only,
 * which expect the job to end with MPI_ERR_RMA_SYNC as its exit code and a message naming
 * MPI_Put. */
#include <mpi.h>
#include <stdio.h>

int main(int argc, char **argv) {
    int mem = 0, v = 1;
    MPI_Win win;
    MPI_Init(&argc, &argv);
    MPI_Win_create(&mem, sizeof(int), sizeof(int), MPI_INFO_NULL, MPI_COMM_WORLD, &win);
    MPI_Put(&v, 1, MPI_INT, 0, 0, 1, MPI_INT, win);
    printf("MPI_Put outside an epoch returned\n");
    MPI_Win_free(&win);
    MPI_Finalize();
    return 0;
}
