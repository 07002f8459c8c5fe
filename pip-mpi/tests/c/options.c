/* Every rank parses its command line with getopt, as the OSU benchmarks do, and the ranks must
 * agree on what they read. getopt keeps its position in libc's globals (optind), so this passes
 * only when each rank has its own libc state: mpiexec's default for small jobs (a private libc
 * per rank), and any MPI whose ranks are processes. Run as: options -i 7 -x 3 -m 1:4096 */
#include <unistd.h>
#include "mpitest.h"

int main(int argc, char **argv) {
    int iters = -1, skip = -1, c;
    char sizes[64] = "";
    while ((c = getopt(argc, argv, "i:x:m:")) != -1) {
        switch (c) {
        case 'i': iters = atoi(optarg); break;
        case 'x': skip = atoi(optarg); break;
        case 'm': snprintf(sizes, sizeof sizes, "%s", optarg); break;
        default: break;
        }
    }
    MPI_Init(&argc, &argv);
    CHECK(iters == 7 && skip == 3 && strcmp(sizes, "1:4096") == 0,
          "parsed -i %d -x %d -m %s", iters, skip, sizes);
    int mine[2] = {iters, skip}, lo[2], hi[2];
    MPI_Allreduce(mine, lo, 2, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    MPI_Allreduce(mine, hi, 2, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    CHECK(lo[0] == hi[0] && lo[1] == hi[1], "the ranks disagree on the options");
    FINISH("options");
}
