/* How tasks end, and what pip_wait reports: return, exit(), pip_exit() (WIFEXITED with the
 * code), a signal raised by the task, a fault, abort(), pip_kill with SIGTERM and SIGKILL
 * (WIFSIGNALED with the signal); a before hook that fails, an after hook that sets the code. */
#include <pip/pip.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include "check.h"

static int after_runs; /* the hooks run in the root's code, so this is the root's */

static int before_fails(void *arg) { return (int)(long)arg; }
static int after_sets(void *arg) {
  after_runs++;
  return (int)(long)arg;
}

static int task(int pipid) {
  switch (pipid) {
    case 0: return 3;
    case 1: exit(4);
    case 2: pip_exit(5);
    case 3: raise(SIGUSR1); break;
    case 4: *(volatile int *)8 = 1; break;
    case 5: abort();
    case 6:
    case 7:
      /* Tell the root we run our main (so the kill does not land while the task starts up),
       * then wait to be killed. */
      EXPECT(pip_named_export(&after_runs, "ready"), 0);
      for (;;) pause();
    case 8: return 99; /* never runs: the before hook fails */
    case 9: return 0;  /* the after hook turns 0 into 11 */
  }
  return 98;
}

int main(int argc, char **argv) {
  int ntasks = 10, pipid;
  EXPECT(pip_init(&pipid, &ntasks, NULL, 0), 0);
  STOP_ON_FAILURE();
  if (pipid != PIP_PIPID_ROOT) return task(pipid);
  for (int i = 0; i < ntasks; i++) {
    pip_spawnhook_t before = i == 8 ? before_fails : NULL;
    pip_spawnhook_t after = i == 9 ? after_sets : NULL;
    void *arg = i == 8 ? (void *)9L : (void *)11L;
    int p = i;
    EXPECT(pip_spawn(argv[0], argv, NULL, PIP_CPUCORE_ASIS, &p, before, after, arg), 0);
  }
  for (int i = 6; i <= 7; i++) {
    void *ready;
    EXPECT(pip_named_import(i, &ready, "ready"), 0);
  }
  EXPECT(pip_kill(6, SIGTERM), 0);
  EXPECT(pip_kill(7, SIGKILL), 0);
  int codes[] = {3, 4, 5, -SIGUSR1, -SIGSEGV, -SIGABRT, -SIGTERM, -SIGKILL, 9, 11};
  for (int i = 0; i < ntasks; i++) {
    int status = -1;
    EXPECT(pip_wait(i, &status), 0);
    if (codes[i] >= 0) {
      TRUE(WIFEXITED(status));
      if (WEXITSTATUS(status) != codes[i])
        fprintf(stderr, "FAIL task %d: exit code %d, expected %d\n", i, WEXITSTATUS(status),
                codes[i]), check_failures++;
    } else {
      TRUE(WIFSIGNALED(status));
      if (WTERMSIG(status) != -codes[i])
        fprintf(stderr, "FAIL task %d: signal %d, expected %d\n", i, WTERMSIG(status), -codes[i]),
            check_failures++;
    }
  }
  TRUE(after_runs == 1);
  EXPECT(pip_fin(), 0);
  if (check_failures == 0) printf("exits: ok\n");
  return CHECK_RESULT();
}
