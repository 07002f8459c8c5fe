/* A root only (built with pipcc --piproot): spawns N copies of the task program argv[1] (built
 * with pipcc --piptask) and checks that each exits with its pipid (query.c does). */
#include <pip/pip.h>
#include <sys/wait.h>
#include "check.h"

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  int ntasks = 3, pipid;
  EXPECT(pip_init(&pipid, &ntasks, NULL, 0), 0);
  char *task_argv[] = {argv[1], "pipid", "task", NULL};
  for (int i = 0; i < ntasks; i++)
    EXPECT(pip_spawn(argv[1], task_argv, NULL, PIP_CPUCORE_ASIS, NULL, NULL, NULL, NULL), 0);
  for (int i = 0; i < ntasks; i++) {
    int status = -1;
    EXPECT(pip_wait(i, &status), 0);
    TRUE(WIFEXITED(status) && WEXITSTATUS(status) == i);
  }
  EXPECT(pip_fin(), 0);
  if (check_failures == 0) printf("spawner: ok\n");
  return CHECK_RESULT();
}
