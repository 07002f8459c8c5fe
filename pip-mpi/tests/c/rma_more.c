/* One-sided communication with the rest of MPI: post/start/complete/wait around a ring
 * (groups), a dynamic window with MPI_Get_address displacements, and a vector datatype on the
 * target side of put, get and accumulate. Passes with any number of ranks. */
#include "mpitest.h"

#define ROUNDS 5

static int rank, size;

/* Each rank exposes its window to its left neighbour and accesses its right one's. */
static void pscw_ring(void) {
    int left = (rank + size - 1) % size, right = (rank + 1) % size;
    int *mem = calloc(1, sizeof(int));
    MPI_Win win;
    MPI_Group world, from, to;
    MPI_Win_create(mem, sizeof(int), sizeof(int), MPI_INFO_NULL, MPI_COMM_WORLD, &win);
    MPI_Comm_group(MPI_COMM_WORLD, &world);
    MPI_Group_incl(world, 1, &left, &from);
    MPI_Group_incl(world, 1, &right, &to);
    for (int round = 1; round <= ROUNDS; round++) {
        *mem = -1;
        MPI_Win_post(from, 0, win);
        MPI_Win_start(to, 0, win);
        int v = rank * 100 + round;
        MPI_Put(&v, 1, MPI_INT, right, 0, 1, MPI_INT, win);
        MPI_Win_complete(win);
        if (round % 2) {
            MPI_Win_wait(win);
        } else {
            int flag = 0;
            while (!flag) MPI_Win_test(win, &flag);
        }
        CHECK(*mem == left * 100 + round, "round %d: got %d from %d", round, *mem, left);
        MPI_Barrier(MPI_COMM_WORLD); /* nobody resets mem before its reader checked it */
    }
    MPI_Group_free(&from);
    MPI_Group_free(&to);
    MPI_Group_free(&world);
    MPI_Win_free(&win);
    free(mem);
}

/* Each rank attaches four ints; everyone learns their addresses and puts into its right
 * neighbour's third int by address. */
static void dynamic_window(void) {
    int right = (rank + 1) % size, left = (rank + size - 1) % size;
    int region[4] = {0, 0, 0, 0};
    MPI_Aint mine, *all = calloc(size, sizeof(MPI_Aint));
    MPI_Win win;
    MPI_Win_create_dynamic(MPI_INFO_NULL, MPI_COMM_WORLD, &win);
    MPI_Win_attach(win, region, sizeof(region));
    MPI_Get_address(&region[2], &mine);
    MPI_Allgather(&mine, 1, MPI_AINT, all, 1, MPI_AINT, MPI_COMM_WORLD);
    int flag = 0, *flavor = NULL;
    MPI_Win_get_attr(win, MPI_WIN_CREATE_FLAVOR, &flavor, &flag);
    CHECK(flag && *flavor == MPI_WIN_FLAVOR_DYNAMIC, "MPI_WIN_CREATE_FLAVOR %d", *flavor);
    MPI_Win_fence(0, win);
    int v = 1000 + rank;
    MPI_Put(&v, 1, MPI_INT, right, all[right], 1, MPI_INT, win);
    MPI_Win_fence(0, win);
    CHECK(region[2] == 1000 + left && region[0] == 0 && region[1] == 0 && region[3] == 0,
          "dynamic put: region holds %d %d %d %d", region[0], region[1], region[2], region[3]);
    MPI_Win_lock(MPI_LOCK_SHARED, right, 0, win);
    int got = -1;
    MPI_Get(&got, 1, MPI_INT, right, all[right], 1, MPI_INT, win);
    MPI_Win_unlock(right, win);
    CHECK(got == 1000 + rank, "dynamic get: %d", got);
    MPI_Win_fence(MPI_MODE_NOSUCCEED, win);
    MPI_Win_detach(win, region);
    MPI_Win_free(&win);
    free(all);
}

/* The target side is every other int of a window of 2 * size ints. */
static void vector_target(void) {
    int *mem = calloc(2 * size, sizeof(int)), *src = calloc(size, sizeof(int));
    int *back = calloc(size, sizeof(int));
    MPI_Datatype every_other;
    MPI_Type_vector(size, 1, 2, MPI_INT, &every_other);
    MPI_Type_commit(&every_other);
    MPI_Win win;
    MPI_Win_create(mem, 2 * size * sizeof(int), sizeof(int), MPI_INFO_NULL, MPI_COMM_WORLD, &win);
    int right = (rank + 1) % size, left = (rank + size - 1) % size;
    for (int i = 0; i < size; i++) src[i] = rank * 10 + i;
    MPI_Win_fence(0, win);
    MPI_Put(src, size, MPI_INT, right, 0, 1, every_other, win);
    MPI_Win_fence(0, win);
    for (int i = 0; i < size; i++) {
        CHECK(mem[2 * i] == left * 10 + i, "vector put: slot %d holds %d", 2 * i, mem[2 * i]);
        CHECK(mem[2 * i + 1] == 0, "vector put touched slot %d", 2 * i + 1);
    }
    MPI_Win_fence(0, win); /* every rank checked before the accumulates change the odd slots */
    MPI_Accumulate(src, size, MPI_INT, right, 1, 1, every_other, MPI_SUM, win);
    MPI_Win_fence(0, win);
    MPI_Get(back, size, MPI_INT, right, 1, 1, every_other, win);
    MPI_Win_fence(MPI_MODE_NOSUCCEED, win);
    for (int i = 0; i < size; i++)
        CHECK(back[i] == rank * 10 + i, "vector accumulate/get: element %d is %d", i, back[i]);
    MPI_Win_free(&win);
    MPI_Type_free(&every_other);
    free(mem);
    free(src);
    free(back);
}

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    pscw_ring();
    dynamic_window();
    vector_target();
    FINISH("rma_more");
}
