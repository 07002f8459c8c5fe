/* The environment: versions (also before MPI_Init), the thread level, MPI_Wtime and
 * MPI_Wtick, the processor name, the predefined attributes, info objects, and the error
 * string and class of an error returned under MPI_ERRORS_RETURN. */
#include "mpitest.h"
#include <pthread.h>
#include <unistd.h>

/* MPI_Is_thread_main on another thread than the one that initialised MPI. */
static void *other_thread(void *flag) {
    MPI_Is_thread_main((int *)flag);
    return NULL;
}

static void versions(void) {
    int version = 0, subversion = -1, len = 0;
    char lib[MPI_MAX_LIBRARY_VERSION_STRING];
    CHECK(MPI_Get_version(&version, &subversion) == MPI_SUCCESS, "MPI_Get_version failed");
    CHECK(version == MPI_VERSION && subversion == MPI_SUBVERSION, "version %d.%d", version,
          subversion);
    CHECK(version >= 3, "version %d", version);
    CHECK(MPI_Get_library_version(lib, &len) == MPI_SUCCESS, "MPI_Get_library_version failed");
    CHECK(len > 0 && len < MPI_MAX_LIBRARY_VERSION_STRING && strlen(lib) > 0,
          "library version of length %d: %s", len, lib);
#ifdef PIP_MPI
    CHECK((int)strlen(lib) == len, "library version of length %d: %s", len, lib);
    CHECK(strncmp(lib, "pip-rs MPI ", 11) == 0 && strstr(lib, "MPI 3.1") != NULL, "%s", lib);
#endif
}

static void clock_and_name(void) {
    double t0 = MPI_Wtime(), t1 = MPI_Wtime(), tick = MPI_Wtick();
    CHECK(t1 >= t0, "MPI_Wtime went back: %f then %f", t0, t1);
    CHECK(tick > 0.0 && tick < 1.0, "MPI_Wtick %g", tick);
    usleep(2000);
    double t2 = MPI_Wtime();
    CHECK(t2 - t1 >= 0.0015 && t2 - t1 < 10.0, "2 ms took %f s by MPI_Wtime", t2 - t1);

    char name[MPI_MAX_PROCESSOR_NAME], host[256] = "";
    int len = -1;
    CHECK(MPI_Get_processor_name(name, &len) == MPI_SUCCESS, "MPI_Get_processor_name failed");
    CHECK(len > 0 && len < MPI_MAX_PROCESSOR_NAME && (int)strlen(name) == len,
          "processor name of length %d: %s", len, name);
    gethostname(host, sizeof host - 1);
    CHECK(strcmp(name, host) == 0, "processor name %s, host name %s", name, host);
}

static void threads(int provided) {
    int queried = -1, main_thread = 0;
    CHECK(provided >= MPI_THREAD_SINGLE && provided <= MPI_THREAD_MULTIPLE, "provided %d",
          provided);
#ifdef PIP_MPI
    CHECK(provided == MPI_THREAD_FUNNELED, "provided %d, expected MPI_THREAD_FUNNELED", provided);
#endif
    CHECK(MPI_Query_thread(&queried) == MPI_SUCCESS && queried == provided,
          "MPI_Query_thread says %d, MPI_Init_thread provided %d", queried, provided);
    CHECK(MPI_Is_thread_main(&main_thread) == MPI_SUCCESS && main_thread,
          "MPI_Is_thread_main is false on the thread that called MPI_Init_thread");
    pthread_t t;
    int other = -1;
    CHECK(pthread_create(&t, NULL, other_thread, &other) == 0, "pthread_create failed");
    pthread_join(t, NULL);
    CHECK(other == 0, "MPI_Is_thread_main is %d on another thread", other);
}

static void attributes(int rank, int size) {
    int *v = NULL, flag = 0;
    CHECK_RC(MPI_Comm_get_attr(MPI_COMM_WORLD, MPI_TAG_UB, &v, &flag), MPI_SUCCESS);
    CHECK(flag && *v >= 32767, "MPI_TAG_UB: flag %d value %d", flag, flag ? *v : 0);
    int *again = NULL;
    MPI_Comm_get_attr(MPI_COMM_WORLD, MPI_TAG_UB, &again, &flag);
    CHECK(flag && *again == *v, "MPI_TAG_UB changed");
    CHECK_RC(MPI_Comm_get_attr(MPI_COMM_WORLD, MPI_UNIVERSE_SIZE, &v, &flag), MPI_SUCCESS);
    CHECK(!flag || *v >= 1, "MPI_UNIVERSE_SIZE %d", *v);
    CHECK_RC(MPI_Comm_get_attr(MPI_COMM_WORLD, MPI_WTIME_IS_GLOBAL, &v, &flag), MPI_SUCCESS);
    CHECK(!flag || *v == 0 || *v == 1, "MPI_WTIME_IS_GLOBAL %d", *v);
    CHECK_RC(MPI_Comm_get_attr(MPI_COMM_WORLD, MPI_IO, &v, &flag), MPI_SUCCESS);
    CHECK_RC(MPI_Comm_get_attr(MPI_COMM_WORLD, MPI_HOST, &v, &flag), MPI_SUCCESS);
#ifdef PIP_MPI
    MPI_Comm_get_attr(MPI_COMM_WORLD, MPI_UNIVERSE_SIZE, &v, &flag);
    CHECK(flag && *v == size, "MPI_UNIVERSE_SIZE");
    MPI_Comm_get_attr(MPI_COMM_WORLD, MPI_WTIME_IS_GLOBAL, &v, &flag);
    CHECK(flag && *v == 1, "MPI_WTIME_IS_GLOBAL");
    MPI_Comm_get_attr(MPI_COMM_WORLD, MPI_IO, &v, &flag);
    CHECK(flag && *v == rank, "MPI_IO");
    MPI_Comm_get_attr(MPI_COMM_WORLD, MPI_HOST, &v, &flag);
    CHECK(flag && *v == MPI_PROC_NULL, "MPI_HOST");
    MPI_Comm_get_attr(MPI_COMM_WORLD, MPI_APPNUM, &v, &flag);
    CHECK(!flag, "MPI_APPNUM is set");
#endif
    (void)rank;
}

static void info(void) {
    MPI_Info info = MPI_INFO_NULL;
    char value[64];
    int flag = -1;
    CHECK_RC(MPI_Info_create(&info), MPI_SUCCESS);
    CHECK_RC(MPI_Info_set(info, "colour", "red"), MPI_SUCCESS);
    CHECK_RC(MPI_Info_set(info, "shape", "round"), MPI_SUCCESS);
    CHECK_RC(MPI_Info_set(info, "colour", "blue"), MPI_SUCCESS);
    CHECK_RC(MPI_Info_get(info, "colour", sizeof value - 1, value, &flag), MPI_SUCCESS);
    CHECK(flag && strcmp(value, "blue") == 0, "colour: flag %d value %s", flag, value);
    CHECK_RC(MPI_Info_get(info, "shape", sizeof value - 1, value, &flag), MPI_SUCCESS);
    CHECK(flag && strcmp(value, "round") == 0, "shape: flag %d value %s", flag, value);
#ifdef PIP_MPI
    /* A short valuelen cuts the value (MPICH fails instead). */
    CHECK_RC(MPI_Info_get(info, "shape", 3, value, &flag), MPI_SUCCESS);
    CHECK(flag && strcmp(value, "rou") == 0, "shape cut to 3: flag %d value %s", flag, value);
#endif
    CHECK_RC(MPI_Info_get(info, "size", sizeof value - 1, value, &flag), MPI_SUCCESS);
    CHECK(!flag, "size is set");
    CHECK_RC(MPI_Info_free(&info), MPI_SUCCESS);
    CHECK(info == MPI_INFO_NULL, "MPI_Info_free did not clear the handle");
    CHECK_RC(MPI_Info_get(MPI_INFO_ENV, "no such key here", sizeof value - 1, value, &flag),
             MPI_SUCCESS);
    CHECK(!flag, "MPI_INFO_ENV has a key it should not");
#ifdef PIP_MPI
    int size;
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    MPI_Info_get(MPI_INFO_ENV, "maxprocs", sizeof value - 1, value, &flag);
    CHECK(flag && atoi(value) == size, "maxprocs: flag %d value %s", flag, value);
#endif
}

static void errors(void) {
    char text[MPI_MAX_ERROR_STRING];
    int len = -1, class = -1;
    MPI_Comm c = MPI_COMM_NULL;
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_set_errhandler(MPI_COMM_SELF, MPI_ERRORS_RETURN);
    int rc = MPI_Comm_split(MPI_COMM_NULL, 0, 0, &c);
    CHECK(rc != MPI_SUCCESS, "MPI_Comm_split of MPI_COMM_NULL succeeded");
    CHECK(MPI_Error_class(rc, &class) == MPI_SUCCESS && class == MPI_ERR_COMM, "class %d", class);
    CHECK(MPI_Error_string(rc, text, &len) == MPI_SUCCESS, "MPI_Error_string failed");
    CHECK(len > 0 && len < MPI_MAX_ERROR_STRING && (int)strlen(text) == len, "string of %d: %s",
          len, text);
#ifdef PIP_MPI
    CHECK(strstr(text, "MPI_ERR_COMM") && strstr(text, "MPI_COMM_NULL"), "%s", text);
    CHECK_RC(MPI_Info_set(MPI_INFO_ENV, "colour", "red"), MPI_ERR_INFO);
#endif
    CHECK(MPI_Error_class(MPI_ERR_RANK, &class) == MPI_SUCCESS && class == MPI_ERR_RANK,
          "the class of MPI_ERR_RANK is %d", class);
    CHECK(MPI_Error_string(MPI_ERR_TRUNCATE, text, &len) == MPI_SUCCESS && len > 0, "empty");
    CHECK(MPI_Error_string(MPI_SUCCESS, text, &len) == MPI_SUCCESS, "no string for success");
}

int main(int argc, char **argv) {
    int rank, size, provided = -1, flag = 1;
    versions();
    MPI_Finalized(&flag);
    CHECK(!flag, "finalized before MPI_Init");
    MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    versions();
    clock_and_name();
    threads(provided);
    attributes(rank, size);
    info();
    errors();
    FINISH("env");
}
