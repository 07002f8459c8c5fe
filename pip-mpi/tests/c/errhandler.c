/* Error handlers: MPI_ERRORS_ARE_FATAL is the default; a user handler is called with the
 * communicator and the code of the error and the function then returns that code; duplicates
 * keep the handler; a freed handler stays with the communicators that use it. The error is
 * MPI_Cartdim_get on a communicator without a Cartesian topology (MPI_ERR_TOPOLOGY). */
#include "mpitest.h"

static int calls;
static MPI_Comm last_comm;
static int last_code;

static void handler(MPI_Comm *comm, int *code, ...) {
    calls++;
    last_comm = *comm;
    last_code = *code;
}

int main(int argc, char **argv) {
    MPI_Comm dup, dup2;
    MPI_Errhandler eh = MPI_ERRHANDLER_NULL, got = MPI_ERRHANDLER_NULL;
    int ndims = -1, rc, class = -1;
    MPI_Init(&argc, &argv);

    CHECK_RC(MPI_Comm_get_errhandler(MPI_COMM_WORLD, &got), MPI_SUCCESS);
    CHECK(got == MPI_ERRORS_ARE_FATAL, "MPI_COMM_WORLD's handler is not MPI_ERRORS_ARE_FATAL");

    MPI_Comm_dup(MPI_COMM_WORLD, &dup);
    CHECK_RC(MPI_Comm_create_errhandler(handler, &eh), MPI_SUCCESS);
    CHECK_RC(MPI_Comm_set_errhandler(dup, eh), MPI_SUCCESS);
    CHECK_RC(MPI_Comm_get_errhandler(dup, &got), MPI_SUCCESS);
    CHECK(got == eh, "MPI_Comm_get_errhandler does not give the handler set");
    /* The handle it gave is the program's to free; `eh` stays valid. */
    CHECK_RC(MPI_Errhandler_free(&got), MPI_SUCCESS);
    CHECK_RC(MPI_Comm_set_errhandler(dup, eh), MPI_SUCCESS);

    rc = MPI_Cartdim_get(dup, &ndims);
    MPI_Error_class(rc, &class);
    CHECK(calls == 1, "the handler was called %d times", calls);
    CHECK(last_comm == dup, "the handler was given another communicator");
    CHECK(last_code == rc, "the handler got code %d, the call returned %d", last_code, rc);
    CHECK(class == MPI_ERR_TOPOLOGY, "class %d, expected MPI_ERR_TOPOLOGY", class);

    /* A duplicate keeps the handler, also after the program freed its handle. */
    MPI_Comm_dup(dup, &dup2);
    CHECK_RC(MPI_Errhandler_free(&eh), MPI_SUCCESS);
    CHECK(eh == MPI_ERRHANDLER_NULL, "MPI_Errhandler_free did not clear the handle");
    rc = MPI_Cartdim_get(dup2, &ndims);
    CHECK(calls == 2 && last_comm == dup2 && last_code == rc, "calls %d", calls);
    rc = MPI_Cartdim_get(dup, &ndims);
    CHECK(calls == 3 && last_comm == dup, "calls %d", calls);

    /* MPI_ERRORS_RETURN: the code comes back, no handler runs. */
    CHECK_RC(MPI_Comm_set_errhandler(dup, MPI_ERRORS_RETURN), MPI_SUCCESS);
    rc = MPI_Cartdim_get(dup, &ndims);
    MPI_Error_class(rc, &class);
    CHECK(calls == 3 && class == MPI_ERR_TOPOLOGY, "calls %d class %d", calls, class);
    CHECK_RC(MPI_Comm_get_errhandler(dup, &got), MPI_SUCCESS);
    CHECK(got == MPI_ERRORS_RETURN, "the handler is not MPI_ERRORS_RETURN");

#ifdef PIP_MPI
    /* The predefined handlers cannot be freed. */
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    got = MPI_ERRORS_RETURN;
    CHECK_RC(MPI_Errhandler_free(&got), MPI_ERR_ARG);
    CHECK(got == MPI_ERRORS_RETURN, "a failed free changed the handle");
#endif

    MPI_Comm_free(&dup2);
    MPI_Comm_free(&dup);
    FINISH("errhandler");
}
