/* The root exports a statically initialised barrier (PIP_BARRIER_INIT) through pip_init; the
 * root and every task go through ROUNDS rounds in lock step: in each round everyone adds one to
 * a shared counter, and after the barrier everyone sees exactly (round + 1) * parties. */
#include <pip/pip.h>
#include <sys/wait.h>
#include "check.h"

#define ROUNDS 500

struct shared {
  pip_barrier_t barrier;
  volatile int counter;
};

static int rounds(struct shared *s, int parties) {
  for (int r = 0; r < ROUNDS; r++) {
    __atomic_add_fetch(&s->counter, 1, __ATOMIC_SEQ_CST);
    EXPECT(pip_barrier_wait(&s->barrier), 0);
    int seen = __atomic_load_n(&s->counter, __ATOMIC_SEQ_CST);
    if (seen != (r + 1) * parties) {
      fprintf(stderr, "FAIL round %d: counter %d, expected %d\n", r, seen, (r + 1) * parties);
      return 100;
    }
    EXPECT(pip_barrier_wait(&s->barrier), 0);
  }
  return CHECK_RESULT();
}

int main(int argc, char **argv) {
  int ntasks = argc > 1 ? atoi(argv[1]) : 8, pipid;
  static struct shared s = {PIP_BARRIER_INIT(0), 0};
  s.barrier.count_init = s.barrier.count = ntasks + 1; /* the tasks and the root */
  void *exp = &s;
  EXPECT(pip_init(&pipid, &ntasks, &exp, 0), 0);
  STOP_ON_FAILURE();
  if (pipid != PIP_PIPID_ROOT) return rounds(exp, ntasks + 1);
  for (int i = 0; i < ntasks; i++)
    EXPECT(pip_spawn(argv[0], argv, NULL, PIP_CPUCORE_ASIS, NULL, NULL, NULL, NULL), 0);
  int rc = rounds(&s, ntasks + 1);
  for (int i = 0; i < ntasks; i++) {
    int status = -1;
    EXPECT(pip_wait(i, &status), 0);
    TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  EXPECT(pip_barrier_fin(&s.barrier), 0);
  EXPECT(pip_fin(), 0);
  if (rc == 0 && check_failures == 0) printf("barrier: ok\n");
  return rc ? rc : CHECK_RESULT();
}
