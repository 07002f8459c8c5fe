/* The execution mode chosen with pip_init's opts (argv[1]: "pthread" or "process"): in the
 * process mode a task has its own pid and its own file descriptor table (a descriptor it closes
 * stays open in the root); in the pthread mode it
 * shares both with the root. */
#include <pip/pip.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>
#include "check.h"

struct seen {
  int pid;
  int fd; /* a descriptor the root opened and the task closes */
};

int main(int argc, char **argv) {
  int process = argc > 1 && !strcmp(argv[1], "process");
  int ntasks = 1, pipid;
  static struct seen seen;
  void *exp = &seen;
  EXPECT(pip_init(&pipid, &ntasks, &exp, process ? PIP_MODE_PROCESS : PIP_MODE_PTHREAD), 0);
  STOP_ON_FAILURE();
  int mode = 0, threaded = -1;
  EXPECT(pip_get_mode(&mode), 0);
  TRUE(mode == (int)(process ? PIP_MODE_PROCESS : PIP_MODE_PTHREAD));
  TRUE(!strcmp(pip_get_mode_str(), process ? PIP_ENV_MODE_PROCESS : PIP_ENV_MODE_PTHREAD));
  EXPECT(pip_is_threaded(&threaded), 0);
  TRUE(threaded == !process);
  if (pipid != PIP_PIPID_ROOT) {
    struct seen *s = exp;
    s->pid = getpid();
    EXPECT(close(s->fd), 0);
    return CHECK_RESULT();
  }
  seen.fd = open("/dev/null", O_RDONLY);
  TRUE(seen.fd >= 0);
  EXPECT(pip_spawn(argv[0], argv, NULL, PIP_CPUCORE_ASIS, NULL, NULL, NULL, NULL), 0);
  int status = -1;
  EXPECT(pip_wait(0, &status), 0);
  TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  TRUE((seen.pid != getpid()) == process);
  /* The task's close reached the root's table only if they share it. */
  TRUE((fcntl(seen.fd, F_GETFD) == -1) == !process);
  EXPECT(pip_fin(), 0);
  if (check_failures == 0) printf("mode %s: ok\n", process ? "process" : "pthread");
  return CHECK_RESULT();
}
