/* A signal ring: the root sends SIGUSR1 to task 0 with pip_kill, task i waits for it with
 * pip_signal_wait and passes it on to task i+1, the last task sends it back to the root.
 * Then pip_kill_all_tasks ends tasks that sleep, which pip_wait reports as killed. */
#include <pip/pip.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include "check.h"

static int ring_task(int pipid, int ntasks) {
  EXPECT(pip_signal_wait(SIGUSR1), 0);
  int next = pipid + 1 < ntasks ? pipid + 1 : PIP_PIPID_ROOT;
  EXPECT(pip_kill(next, SIGUSR1), 0);
  return CHECK_RESULT();
}

int main(int argc, char **argv) {
  int ntasks = argc > 1 ? atoi(argv[1]) : 4, pipid;
  /* Block SIGUSR1 before anything starts: task threads inherit the root thread's mask. */
  sigset_t set, old;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR1);
  EXPECT(pip_sigmask(SIG_BLOCK, &set, &old), 0);
  int total = ntasks * 2;
  EXPECT(pip_init(&pipid, &total, NULL, 0), 0);
  STOP_ON_FAILURE();
  if (pipid != PIP_PIPID_ROOT) {
    if (pipid < ntasks) return ring_task(pipid, ntasks);
    /* The second half says it runs its main, then waits to be killed. */
    static int ready;
    EXPECT(pip_named_export(&ready, "ready"), 0);
    for (;;) pause();
  }
  for (int i = 0; i < total; i++)
    EXPECT(pip_spawn(argv[0], argv, NULL, PIP_CPUCORE_ASIS, NULL, NULL, NULL, NULL), 0);
  EXPECT(pip_kill(0, SIGUSR1), 0);
  EXPECT(pip_signal_wait(SIGUSR1), 0); /* came round the ring */
  for (int i = 0; i < ntasks; i++) {
    int status = -1;
    EXPECT(pip_wait(i, &status), 0);
    TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  EXPECT(pip_kill(0, SIGUSR1), ESRCH); /* ended */
  for (int i = ntasks; i < total; i++) {
    void *ready;
    EXPECT(pip_named_import(i, &ready, "ready"), 0);
  }
  EXPECT(pip_kill_all_tasks(), 0);
  for (int i = ntasks; i < total; i++) {
    int status = -1;
    EXPECT(pip_wait(i, &status), 0);
    TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  }
  EXPECT(pip_fin(), 0);
  if (check_failures == 0) printf("kill: ok\n");
  return CHECK_RESULT();
}
