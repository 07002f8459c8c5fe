/* A task for pip-exec (which is a Rust root) and for spawner.c: it learns its pipid and the task
 * count without pip_init, meets its neighbours through named exports, and exits with 0 (with
 * its pipid when argv[1] is "pipid"). argv[2] says what a thread it creates is: "task" (under
 * a root built with pipcc, or in namespace isolation, where such threads belong to their task)
 * or "root" (under pip-exec in shared-libc isolation, where the library cannot see them). */
#include <pip/pip.h>
#include <pthread.h>
#include "check.h"

static int value;

static void *thread_main(void *arg) {
  int *out = arg;
  EXPECT(pip_get_pipid(out), 0);
  return NULL;
}

/* A start function for `pip-exec -f start_here`. */
int start_here(void *arg) {
  int pipid;
  EXPECT(pip_get_pipid(&pipid), 0);
  TRUE(arg == NULL);
  return check_failures ? 100 : 40 + pipid;
}

int main(int argc, char **argv) {
  int pipid = -1, ntasks = -1;
  TRUE(pip_isa_task() && !pip_isa_root());
  EXPECT(pip_get_pipid(&pipid), 0);
  EXPECT(pip_get_ntasks(&ntasks), 0);
  value = 100 + pipid;
  EXPECT(pip_named_export(&value, "value"), 0);
  int right = (pipid + 1) % ntasks, *theirs = NULL;
  EXPECT(pip_named_import(right, (void **)&theirs, "value"), 0);
  TRUE(theirs != NULL && *theirs == 100 + right);
  int seen = 0;
  pthread_t t;
  TRUE(pthread_create(&t, NULL, thread_main, &seen) == 0);
  pthread_join(t, NULL);
  if (argc > 2) TRUE(seen == (!strcmp(argv[2], "task") ? pipid : PIP_PIPID_ROOT));
  printf("task %d of %d: %s\n", pipid, ntasks, check_failures ? "FAILED" : "ok");
  /* libc's data (stderr) from a task in its own link namespace too. */
  fprintf(stderr, "task %d: stderr works\n", pipid);
  if (check_failures) return 100;
  return argc > 1 && !strcmp(argv[1], "pipid") ? pipid : 0;
}
