/* PiP's loader lock and the symbols PiP programs link against besides the v2.0 API:
 * pip_is_debug_build, pip_glibc_lock/unlock (and v2.4's libc and universal locks), the locked
 * pip_dl* calls, pip_gettime, pip_kill_all_child_tasks, pip_debug_info, pip_info_fmesg.
 *
 * argv[1]: the number of tasks; argv[2]: 1 if libpip.so is a debug build, else 0. The root and
 * every task call each pip_dl* function, then all of them increment one counter, non-atomically,
 * under pip_glibc_lock (taken twice: it is recursive): the count comes out exact, and no holder
 * ever finds another one inside, only if every task takes the same lock. */
#define _GNU_SOURCE
#include <pip/pip.h>
#include <pip/pip_dlfcn.h>
#include <dlfcn.h>
#include <link.h>
#include <sched.h>
#include <sys/wait.h>
#include "check.h"

#define ROUNDS 2000

/* What one lock guards: [0] the loader lock, [1] the universal lock. */
struct section {
  int inside;            /* 1 while a holder is inside */
  int overlaps;          /* how often a holder found another one inside */
  volatile long counter; /* incremented under the lock only */
};

struct shared {
  struct section sec[2];
  pip_barrier_t start;
};

static void dl_calls(void) {
  void *h = pip_dlopen("libm.so.6", RTLD_NOW);
  TRUE(h != NULL);
  if (h == NULL) return;
  double (*cosp)(double) = (double (*)(double))pip_dlsym(h, "cos");
  TRUE(cosp != NULL && cosp(0.0) == 1.0);
  Dl_info info;
  memset(&info, 0, sizeof info);
  TRUE(pip_dladdr((void *)cosp, &info) != 0 && info.dli_fname != NULL &&
       strstr(info.dli_fname, "libm") != NULL);
  struct link_map *map = NULL;
  EXPECT(pip_dlinfo(h, RTLD_DI_LINKMAP, &map), 0);
  TRUE(map != NULL);
  void *base = pip_dlmopen(LM_ID_BASE, "libm.so.6", RTLD_NOW);
  TRUE(base != NULL);
  if (base != NULL) EXPECT(pip_dlclose(base), 0);
  EXPECT(pip_dlclose(h), 0);
  TRUE(pip_dlopen("/nonexistent/libnothing.so", RTLD_NOW) == NULL);
  const char *err = pip_dlerror();
  TRUE(err != NULL && strstr(err, "libnothing") != NULL);
  /* The holder of the loader lock may call the locked functions. */
  pip_glibc_lock();
  h = pip_dlopen("libm.so.6", RTLD_NOW);
  TRUE(h != NULL && pip_dlsym(h, "sin") != NULL);
  if (h != NULL) EXPECT(pip_dlclose(h), 0);
  pip_glibc_unlock();
}

static void hammer(struct shared *s) {
  for (int i = 0; i < ROUNDS; i++) {
    int universal = i % 2;
    if (universal) {
      pip_universal_lock();
    } else {
      pip_glibc_lock();
      pip_libc_lock(); /* recursive: the same lock again, under v2.4's name */
    }
    struct section *sec = &s->sec[universal];
    if (__atomic_exchange_n(&sec->inside, 1, __ATOMIC_SEQ_CST) != 0)
      __atomic_add_fetch(&sec->overlaps, 1, __ATOMIC_SEQ_CST);
    long c = sec->counter;
    if (i % 16 < 2) sched_yield(); /* let others try to get in */
    sec->counter = c + 1;
    __atomic_store_n(&sec->inside, 0, __ATOMIC_SEQ_CST);
    if (universal) {
      pip_universal_unlock();
    } else {
      pip_libc_unlock();
      pip_glibc_unlock();
    }
  }
}

int main(int argc, char **argv) {
  int ntasks = argc > 1 ? atoi(argv[1]) : 4, pipid = -1;
  int debug = argc > 2 ? atoi(argv[2]) : -1;
  static struct shared shared;
  void *exp = &shared;

  TRUE(pip_is_debug_build() == debug);
  if (!pip_is_initialized()) {
    /* Outside a PiP job the lock and the locked calls work too. */
    pip_glibc_lock();
    pip_glibc_unlock();
    pip_glibc_unlock(); /* not held: does nothing */
    dl_calls();
  }
  EXPECT(pip_init(&pipid, &ntasks, &exp, 0), 0);
  STOP_ON_FAILURE();
  struct shared *s = exp;
  TRUE(pip_gettime() > 1e9);
  dl_calls();
  if (pipid != PIP_PIPID_ROOT) {
    EXPECT(pip_kill_all_child_tasks(), EPERM);
    EXPECT(pip_barrier_wait(&s->start), 0);
    hammer(s);
    return CHECK_RESULT();
  }
  EXPECT(pip_barrier_init(&s->start, ntasks + 1), 0);
  for (int i = 0; i < ntasks; i++) {
    int p = i;
    EXPECT(pip_spawn(argv[0], argv, NULL, PIP_CPUCORE_ASIS, &p, NULL, NULL, NULL), 0);
  }
  STOP_ON_FAILURE();
  EXPECT(pip_barrier_wait(&s->start), 0);
  hammer(s);
  for (int i = 0; i < ntasks; i++) {
    int status = -1;
    EXPECT(pip_wait(i, &status), 0);
    TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  for (int k = 0; k < 2; k++) {
    long want = (long)(ntasks + 1) * (ROUNDS / 2);
    struct section *sec = &s->sec[k];
    TRUE(sec->counter == want && sec->overlaps == 0);
    if (sec->counter != want || sec->overlaps != 0)
      fprintf(stderr, "%s lock: counter %ld (want %ld), overlaps %d\n",
              k ? "universal" : "loader", sec->counter, want, sec->overlaps);
  }
  EXPECT(pip_kill_all_child_tasks(), 0);
  pip_debug_info(); /* PIP_SHOW_MAPS=on: the memory map on stderr */
  pip_info_fmesg(stdout, "fmesg %d", 7);
  EXPECT(pip_fin(), 0);
  if (check_failures == 0) printf("dl: ok\n");
  return CHECK_RESULT();
}
