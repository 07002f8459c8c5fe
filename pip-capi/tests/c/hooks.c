/* pip_task_spawn with a pip_spawn_program_t filled by pip_spawn_from_main / pip_spawn_from_func
 * and a pip_spawn_hook_t filled by pip_spawn_hook: the before hook runs on the task's thread
 * before the task starts and gets the hook argument, the after hook runs when it ends, and the
 * aux pointer and the export of the program struct reach the task. */
#include <pip/pip.h>
#include <sys/wait.h>
#include "check.h"

static int befores, afters; /* the hooks run in the root's code, so these are the root's */
static int seen_arg;

static int before(void *arg) {
  befores++;
  seen_arg = *(int *)arg;
  return 0;
}
static int after(void *arg) {
  (void)arg;
  afters++;
  return 0;
}

int by_func(void *arg) {
  void *aux = NULL;
  EXPECT(pip_get_aux(&aux), 0);
  TRUE(aux == arg);
  return check_failures ? 100 : 7;
}

int main(int argc, char **argv) {
  (void)argc;
  int ntasks = 2, pipid = -1;
  static int root_export = 42;
  void *exp = &root_export;
  EXPECT(pip_init(&pipid, &ntasks, &exp, 0), 0);
  STOP_ON_FAILURE();
  if (pipid != PIP_PIPID_ROOT) {
    /* Spawned from main with its own export. */
    TRUE(exp != NULL && *(int *)exp == 43);
    return check_failures ? 100 : 5;
  }
  static int task_export = 43;
  int hookarg = 1234;
  pip_spawn_hook_t hook;
  pip_spawn_hook(&hook, before, after, &hookarg);

  pip_spawn_program_t prog;
  char *targv[] = {argv[0], NULL};
  pip_spawn_from_main(&prog, argv[0], targv, NULL, &task_export, NULL);
  int p0 = PIP_PIPID_ANY;
  EXPECT(pip_task_spawn(&prog, PIP_CPUCORE_ASIS, 0, &p0, &hook), 0);

  static int token;
  pip_spawn_from_func(&prog, argv[0], "by_func", &token, NULL, NULL, &token);
  int p1 = PIP_PIPID_ANY;
  EXPECT(pip_task_spawn(&prog, PIP_CPUCORE_ASIS, 0, &p1, &hook), 0);

  int st0 = -1, st1 = -1;
  EXPECT(pip_wait(p0, &st0), 0);
  EXPECT(pip_wait(p1, &st1), 0);
  TRUE(WIFEXITED(st0) && WEXITSTATUS(st0) == 5);
  TRUE(WIFEXITED(st1) && WEXITSTATUS(st1) == 7);
  TRUE(befores == 2 && afters == 2);
  TRUE(seen_arg == 1234);
  EXPECT(pip_fin(), 0);
  if (check_failures) return 1;
  printf("hooks: ok\n");
  return 0;
}
