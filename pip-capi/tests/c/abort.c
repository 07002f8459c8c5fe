/* pip_abort ends the whole job with SIGABRT: called by the root (argv[1] = "root") or by a task
 * ("task"), while other tasks run. Run it in a child process: it must die of SIGABRT. */
#include <pip/pip.h>
#include <unistd.h>
#include "check.h"

int main(int argc, char **argv) {
  int ntasks = 3, pipid;
  const char *who = argc > 1 ? argv[1] : "root";
  EXPECT(pip_init(&pipid, &ntasks, NULL, 0), 0);
  STOP_ON_FAILURE();
  if (pipid != PIP_PIPID_ROOT) {
    if (pipid == 0 && !strcmp(who, "task")) {
      void *go;
      EXPECT(pip_named_import(PIP_PIPID_ROOT, &go, "go"), 0);
      pip_abort();
    }
    for (;;) pause();
  }
  for (int i = 0; i < ntasks; i++)
    EXPECT(pip_spawn(argv[0], argv, NULL, PIP_CPUCORE_ASIS, NULL, NULL, NULL, NULL), 0);
  if (!strcmp(who, "root")) pip_abort();
  static int go;
  EXPECT(pip_named_export(&go, "go"), 0);
  int status;
  pip_wait(0, &status); /* does not return: task 0 aborts the job */
  printf("not reached\n");
  return 1;
}
