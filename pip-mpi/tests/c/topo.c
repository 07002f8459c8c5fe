/* Topologies: MPI_Dims_create (balanced, respecting given entries, MPI_ERR_DIMS when
 * impossible), a 2-D Cartesian grid periodic in one dimension (coordinates, ranks, wrap,
 * shifts with MPI_PROC_NULL at the edges), a grid smaller than the communicator, and a
 * distributed-graph ring, unweighted and weighted. No message. */
#include "mpitest.h"

static int rank, size;

static void dims_create(void) {
    int d2[2] = {0, 0}, d3[3] = {0, 0, 0}, fixed[3] = {0, 3, 0}, bad[2] = {5, 0};
    MPI_Dims_create(12, 2, d2);
    CHECK(d2[0] == 4 && d2[1] == 3, "12 in 2: %d x %d", d2[0], d2[1]);
    d2[0] = d2[1] = 0;
    MPI_Dims_create(16, 2, d2);
    CHECK(d2[0] == 4 && d2[1] == 4, "16 in 2: %d x %d", d2[0], d2[1]);
    d2[0] = d2[1] = 0;
    MPI_Dims_create(7, 2, d2);
    CHECK(d2[0] == 7 && d2[1] == 1, "7 in 2: %d x %d", d2[0], d2[1]);
    MPI_Dims_create(24, 3, d3);
    CHECK(d3[0] == 4 && d3[1] == 3 && d3[2] == 2, "24 in 3: %d %d %d", d3[0], d3[1], d3[2]);
    MPI_Dims_create(12, 3, fixed);
    CHECK(fixed[0] == 2 && fixed[1] == 3 && fixed[2] == 2, "12 in (0,3,0): %d %d %d", fixed[0],
          fixed[1], fixed[2]);
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_set_errhandler(MPI_COMM_SELF, MPI_ERRORS_RETURN);
    CHECK_RC(MPI_Dims_create(12, 2, bad), MPI_ERR_DIMS);
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_ARE_FATAL);
    MPI_Comm_set_errhandler(MPI_COMM_SELF, MPI_ERRORS_ARE_FATAL);
}

static void cart(void) {
    int dims[2] = {0, 0}, periods[2] = {1, 0}, coords[2], r = -1, status = -1;
    MPI_Comm grid;
    MPI_Dims_create(size, 2, dims);
    CHECK_RC(MPI_Cart_create(MPI_COMM_WORLD, 2, dims, periods, 0, &grid), MPI_SUCCESS);
    CHECK(grid != MPI_COMM_NULL, "no grid communicator");
    MPI_Topo_test(grid, &status);
    CHECK(status == MPI_CART, "MPI_Topo_test gives %d", status);
    MPI_Topo_test(MPI_COMM_WORLD, &status);
    CHECK(status == MPI_UNDEFINED, "MPI_Topo_test of the world gives %d", status);
    int nd = -1;
    MPI_Cartdim_get(grid, &nd);
    CHECK(nd == 2, "MPI_Cartdim_get: %d", nd);
    int me;
    MPI_Comm_rank(grid, &me);
    CHECK(me == rank, "grid rank %d (reorder is false)", me);
    /* Row-major coordinates, and back. */
    for (int q = 0; q < size; q++) {
        MPI_Cart_coords(grid, q, 2, coords);
        CHECK(coords[0] == q / dims[1] && coords[1] == q % dims[1], "rank %d at (%d,%d)", q,
              coords[0], coords[1]);
        MPI_Cart_rank(grid, coords, &r);
        CHECK(r == q, "(%d,%d) is rank %d, not %d", coords[0], coords[1], r, q);
    }
    int gd[2], gp[2], gc[2];
    MPI_Cart_get(grid, 2, gd, gp, gc);
    CHECK(gd[0] == dims[0] && gd[1] == dims[1] && gp[0] == 1 && gp[1] == 0, "MPI_Cart_get");
    CHECK(gc[0] == rank / dims[1] && gc[1] == rank % dims[1], "my coordinates");
    /* The periodic dimension wraps. */
    coords[0] = -1;
    coords[1] = 0;
    MPI_Cart_rank(grid, coords, &r);
    CHECK(r == (dims[0] - 1) * dims[1], "(-1,0) is rank %d", r);
    /* Shifts: wrap in dimension 0, MPI_PROC_NULL at the edges of dimension 1. */
    int src, dst, row = rank / dims[1], col = rank % dims[1];
    MPI_Cart_shift(grid, 0, 1, &src, &dst);
    CHECK(src == ((row + dims[0] - 1) % dims[0]) * dims[1] + col, "dim 0 source %d", src);
    CHECK(dst == ((row + 1) % dims[0]) * dims[1] + col, "dim 0 dest %d", dst);
    MPI_Cart_shift(grid, 1, 1, &src, &dst);
    CHECK(src == (col == 0 ? MPI_PROC_NULL : rank - 1), "dim 1 source %d", src);
    CHECK(dst == (col == dims[1] - 1 ? MPI_PROC_NULL : rank + 1), "dim 1 dest %d", dst);
    MPI_Cart_shift(grid, 1, -1, &src, &dst);
    CHECK(dst == (col == 0 ? MPI_PROC_NULL : rank - 1), "dim 1 dest of -1: %d", dst);
    /* Outside the non-periodic dimension. */
    MPI_Comm_set_errhandler(grid, MPI_ERRORS_RETURN);
    coords[0] = 0;
    coords[1] = dims[1];
    CHECK(MPI_Cart_rank(grid, coords, &r) != MPI_SUCCESS, "(0,%d) has a rank", dims[1]);
#ifdef PIP_MPI
    CHECK_RC(MPI_Cart_rank(grid, coords, &r), MPI_ERR_RANK);
    CHECK_RC(MPI_Cart_coords(grid, size, 2, coords), MPI_ERR_RANK);
#endif
    /* A duplicate keeps the topology. */
    MPI_Comm dup;
    MPI_Comm_dup(grid, &dup);
    MPI_Topo_test(dup, &status);
    CHECK(status == MPI_CART, "the duplicate's topology is %d", status);
    MPI_Comm_free(&dup);
    MPI_Comm_free(&grid);
}

static void small_cart(void) {
    /* A 1-D grid of size - 1 ranks (1 when alone): the last rank gets MPI_COMM_NULL. */
    int n = size > 1 ? size - 1 : 1, period = 0;
    MPI_Comm line;
    CHECK_RC(MPI_Cart_create(MPI_COMM_WORLD, 1, &n, &period, 0, &line), MPI_SUCCESS);
    if (rank >= n) {
        CHECK(line == MPI_COMM_NULL, "rank %d beyond the grid got a communicator", rank);
    } else {
        int s = -1, src, dst;
        MPI_Comm_size(line, &s);
        CHECK(s == n, "line of %d", s);
        MPI_Cart_shift(line, 0, 2, &src, &dst);
        CHECK(src == (rank >= 2 ? rank - 2 : MPI_PROC_NULL), "source %d", src);
        CHECK(dst == (rank + 2 < n ? rank + 2 : MPI_PROC_NULL), "dest %d", dst);
        MPI_Comm_free(&line);
    }
}

static void ring(int weighted) {
    int left = (rank + size - 1) % size, right = (rank + 1) % size;
    int wl = 10 + rank, wr = 20 + rank;
    MPI_Comm g;
    CHECK_RC(MPI_Dist_graph_create_adjacent(MPI_COMM_WORLD, 1, &left,
                                            weighted ? &wl : MPI_UNWEIGHTED, 1, &right,
                                            weighted ? &wr : MPI_UNWEIGHTED, MPI_INFO_NULL, 0, &g),
             MPI_SUCCESS);
    int status = -1, in = -1, out = -1, w = -1;
    MPI_Topo_test(g, &status);
    CHECK(status == MPI_DIST_GRAPH, "MPI_Topo_test gives %d", status);
    MPI_Dist_graph_neighbors_count(g, &in, &out, &w);
    CHECK(in == 1 && out == 1 && (w != 0) == weighted, "in %d out %d weighted %d", in, out, w);
    int s = -1, d = -1, sw = -1, dw = -1;
    if (weighted) {
        MPI_Dist_graph_neighbors(g, 1, &s, &sw, 1, &d, &dw);
        CHECK(sw == wl && dw == wr, "weights %d %d", sw, dw);
    } else {
        MPI_Dist_graph_neighbors(g, 1, &s, &sw, 1, &d, &dw);
    }
    CHECK(s == left && d == right, "neighbours %d %d, expected %d %d", s, d, left, right);
    MPI_Comm_free(&g);
}

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    dims_create();
    cart();
    small_cart();
    ring(0);
    ring(1);
    FINISH("topo");
}
