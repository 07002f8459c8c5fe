/* Helpers of the MPI C test programs. They use only standard MPI, so the same programs build
 * and pass with pip-rs's mpicc, MPICH's and Open MPI's (tests/reference.rs runs them all).
 *
 *   CHECK(cond, fmt, ...)    on failure: prints FAIL with the rank, file and line, and counts it
 *   CHECK_RC(call, want)     the call's return code must be `want` (an MPI error class)
 *   FINISH(name)             every rank prints "PASS name rank R" (or FAILED), then MPI_Finalize;
 *                            the exit code is 0 only when the rank passed
 */
#ifndef MPITEST_H
#define MPITEST_H
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int mpitest_failures;

static int mpitest_rank(void) {
    int r = -1, init = 0, fin = 0;
    MPI_Initialized(&init);
    MPI_Finalized(&fin);
    if (init && !fin) MPI_Comm_rank(MPI_COMM_WORLD, &r);
    return r;
}

#define CHECK(cond, ...)                                                               \
    do {                                                                               \
        if (!(cond)) {                                                                 \
            fprintf(stderr, "FAIL rank %d %s:%d: %s: ", mpitest_rank(), __FILE__,      \
                    __LINE__, #cond);                                                  \
            fprintf(stderr, __VA_ARGS__);                                              \
            fprintf(stderr, "\n");                                                     \
            mpitest_failures++;                                                        \
        }                                                                              \
    } while (0)

/* The error class of the call's return code must be `want`. */
#define CHECK_RC(call, want)                                                           \
    do {                                                                               \
        int rc_ = (call), class_ = rc_;                                                \
        if (rc_ != MPI_SUCCESS) MPI_Error_class(rc_, &class_);                         \
        CHECK(class_ == (want), "%s returned class %d, expected %d", #call, class_,    \
              (int)(want));                                                            \
    } while (0)

#define FINISH(name)                                                                   \
    do {                                                                               \
        int me_ = 0;                                                                   \
        MPI_Comm_rank(MPI_COMM_WORLD, &me_);                                           \
        if (mpitest_failures == 0) printf("PASS %s rank %d\n", name, me_);             \
        else printf("FAILED %s rank %d: %d failures\n", name, me_, mpitest_failures);  \
        fflush(stdout);                                                                \
        MPI_Finalize();                                                                \
        return mpitest_failures == 0 ? 0 : 1;                                          \
    } while (0)

#endif
