/* pip_init accepts back the mode pip_get_mode gave, in each mode: a first job (its mode from
 * PIP_MODE, or the default) reports its mode; after pip_fin, a second job is started with that
 * value as pip_init's opts, must run in the same mode, and a task's pip_init with it works too.
 * argv[1] == "task" marks a task. */
#include <pip/pip.h>
#include <sys/wait.h>
#include "check.h"

static int run_job(char **argv, int opts, int *mode) {
  int pipid = -1, ntasks = 1;
  EXPECT(pip_init(&pipid, &ntasks, NULL, opts), 0);
  if (check_failures) return -1;
  EXPECT(pip_get_mode(mode), 0);
  char *task_argv[] = {argv[0], "task", NULL};
  int p = 0;
  EXPECT(pip_spawn(argv[0], task_argv, NULL, PIP_CPUCORE_ASIS, &p, NULL, NULL, NULL), 0);
  int status = -1;
  EXPECT(pip_wait(0, &status), 0);
  TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT(pip_fin(), 0);
  return 0;
}

int main(int argc, char **argv) {
  if (argc > 1 && !strcmp(argv[1], "task")) {
    int mode = 0, pipid = -1;
    EXPECT(pip_get_mode(&mode), 0);
    EXPECT(pip_init(&pipid, NULL, NULL, mode), 0);
    TRUE(pipid == 0);
    return CHECK_RESULT();
  }
  int first = 0, second = 0;
  if (run_job(argv, 0, &first) != 0) return 1;
  TRUE(first == (int)PIP_MODE_PTHREAD || first == (int)PIP_MODE_PROCESS);
  if (run_job(argv, first, &second) != 0) return 1;
  TRUE(second == first);
  if (check_failures == 0) printf("mode_opts %s: ok\n", first == (int)PIP_MODE_PROCESS ? "process" : "pthread");
  return CHECK_RESULT();
}
