/* The self-spawning pattern: the root spawns its own program N times and every copy branches on
 * its pipid. Each task keeps a value in a static, publishes its address, and after a barrier
 * reads every other task's: the statics are private (distinct addresses, distinct values). */
#include <pip/pip.h>
#include <sys/wait.h>
#include "check.h"

static int mine;     /* one per task */
static int touched;  /* .bss: stays 0 in every fresh copy */

static int task(int pipid, int ntasks, pip_barrier_t *barrier) {
  TRUE(touched == 0);
  touched = 1;
  mine = 1000 + pipid;
  EXPECT(pip_named_export(&mine, "mine-%d", pipid), 0);
  EXPECT(pip_barrier_wait(barrier), 0);
  for (int p = 0; p < ntasks; p++) {
    int *theirs = NULL;
    EXPECT(pip_named_import(p, (void **)&theirs, "mine-%d", p), 0);
    TRUE(theirs != NULL && *theirs == 1000 + p);
    TRUE((p == pipid) == (theirs == &mine));
  }
  EXPECT(pip_barrier_wait(barrier), 0);
  printf("task %d of %d: static at %p holds %d\n", pipid, ntasks, (void *)&mine, mine);
  return check_failures ? 100 : pipid + 1;
}

int main(int argc, char **argv) {
  int ntasks = argc > 1 ? atoi(argv[1]) : 4;
  pip_barrier_t barrier;
  EXPECT(pip_barrier_init(&barrier, ntasks), 0);
  void *exp = &barrier;
  int pipid = -1;
  EXPECT(pip_init(&pipid, &ntasks, &exp, 0), 0);
  STOP_ON_FAILURE();
  if (pipid != PIP_PIPID_ROOT) return task(pipid, ntasks, exp);

  TRUE(pip_isa_root() && !pip_isa_task());
  for (int i = 0; i < ntasks; i++) {
    int p = PIP_PIPID_ANY;
    EXPECT(pip_spawn(argv[0], argv, NULL, PIP_CPUCORE_ASIS, &p, NULL, NULL, NULL), 0);
    TRUE(p == i);
  }
  for (int i = 0; i < ntasks; i++) {
    int status = -1;
    EXPECT(pip_wait(i, &status), 0);
    TRUE(WIFEXITED(status) && WEXITSTATUS(status) == i + 1);
  }
  EXPECT(pip_fin(), 0);
  TRUE(mine == 0 && touched == 0); /* the root's own copy was never touched */
  if (check_failures == 0) printf("self_spawn: ok\n");
  return CHECK_RESULT();
}
