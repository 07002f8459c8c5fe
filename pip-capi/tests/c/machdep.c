/* pip_machdep.h's spin lock and atomics shared through an export: every task adds to a counter
 * under the lock, and to an atomic; the root checks both totals. Also includes pip_clone.h after
 * pip.h (it must build whatever came before it). */
#include <pip/pip.h>
#include <pip/pip_clone.h>
#include <pip/pip_machdep.h>
#include <sys/wait.h>
#include "check.h"

#define ADDS 20000

struct shared {
  pip_spinlock_t lock;
  long counter;
  pip_atomic_t atomic;
};

int main(int argc, char **argv) {
  (void)argc;
  int ntasks = 4, pipid;
  static struct shared s;
  pip_spin_init(&s.lock);
  void *exp = &s;
  EXPECT(pip_init(&pipid, &ntasks, &exp, 0), 0);
  STOP_ON_FAILURE();
  if (pipid != PIP_PIPID_ROOT) {
    struct shared *sh = (struct shared *)exp;
    for (int i = 0; i < ADDS; i++) {
      pip_spin_lock(&sh->lock);
      sh->counter++;
      pip_spin_unlock(&sh->lock);
      pip_atomic_fetch_and_add(&sh->atomic, 1);
      if (i % 1000 == 0) pip_pause();
    }
    pip_memory_barrier();
    return 0;
  }
  TRUE((pip_clone_flags(CLONE_VM | CLONE_THREAD | CLONE_FILES) & (CLONE_THREAD | CLONE_FILES)) == 0);
  TRUE((pip_clone_flags(0) & 0xff) == SIGCHLD);
  for (int i = 0; i < ntasks; i++)
    EXPECT(pip_spawn(argv[0], argv, NULL, PIP_CPUCORE_ASIS, NULL, NULL, NULL, NULL), 0);
  for (int i = 0; i < ntasks; i++) {
    int status = -1;
    EXPECT(pip_wait(i, &status), 0);
    TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  TRUE(s.counter == (long)ntasks * ADDS);
  TRUE(s.atomic == (intptr_t)ntasks * ADDS);
  TRUE(pip_spin_trylock(&s.lock));
  TRUE(!pip_spin_trylock(&s.lock));
  pip_spin_unlock(&s.lock);
  EXPECT(pip_fin(), 0);
  if (check_failures == 0) printf("machdep: ok\n");
  return CHECK_RESULT();
}
