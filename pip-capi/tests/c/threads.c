/* Threads that a task creates belong to the task: pip_get_pipid gives the task's pipid on them
 * (and on threads they create in turn); on the root's threads it gives PIP_PIPID_ROOT.
 * pip_exit on such a thread ends that thread only. */
#include <pip/pip.h>
#include <pthread.h>
#include <sys/wait.h>
#include "check.h"

static void *inner(void *arg) {
  EXPECT(pip_get_pipid(arg), 0);
  return NULL;
}

static void *outer(void *arg) {
  int *seen = arg;
  pthread_t t;
  EXPECT(pip_get_pipid(&seen[0]), 0);
  TRUE(pthread_create(&t, NULL, inner, &seen[1]) == 0);
  TRUE(pthread_join(t, NULL) == 0);
  if (pip_isa_task()) pip_exit(9); /* ends this thread, not the task */
  return NULL;
}

/* Runs outer() on a new thread and checks what it saw. */
static void check_threads(int expected) {
  int seen[2] = {-1, -1};
  pthread_t t;
  TRUE(pthread_create(&t, NULL, outer, seen) == 0);
  TRUE(pthread_join(t, NULL) == 0);
  if (seen[0] != expected || seen[1] != expected) {
    fprintf(stderr, "FAIL: threads saw pipids %d and %d, expected %d\n", seen[0], seen[1],
            expected);
    check_failures++;
  }
}

int main(int argc, char **argv) {
  int ntasks = 3, pipid;
  EXPECT(pip_init(&pipid, &ntasks, NULL, 0), 0);
  STOP_ON_FAILURE();
  if (pipid != PIP_PIPID_ROOT) {
    check_threads(pipid);
    return CHECK_RESULT();
  }
  check_threads(PIP_PIPID_ROOT);
  for (int i = 0; i < ntasks; i++)
    EXPECT(pip_spawn(argv[0], argv, NULL, PIP_CPUCORE_ASIS, NULL, NULL, NULL, NULL), 0);
  for (int i = 0; i < ntasks; i++) {
    int status = -1;
    EXPECT(pip_wait(i, &status), 0);
    TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  EXPECT(pip_fin(), 0);
  if (check_failures == 0) printf("threads: ok\n");
  return CHECK_RESULT();
}
