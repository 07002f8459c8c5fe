/* Every function of pip.h with its error codes: before pip_init, pip_init's checks, spawning,
 * waiting, finishing, exports and imports, kill, queries, aux, exp and barriers. The root spawns
 * its own program; argv[1] tells a task what to do. */
#include <pip/pip.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "check.h"

static int dummy;

/* The tests run in both execution modes: PIP_MODE=process selects pip-rs's process mode. */
static int process_mode(void) {
  const char *m = getenv("PIP_MODE");
  return m != NULL && strcmp(m, "process") == 0;
}

/* The system id of the calling task: its pthread_t, or its pid in the process mode. */
static pip_id_t own_system_id(void) {
  return process_mode() ? (pip_id_t)pip_gettid() : (pip_id_t)pthread_self();
}

/* A start function that is not exported: PiP refuses to spawn it (ENOEXEC). */
static __attribute__((used)) int hidden_start(void *arg) {
  (void)arg;
  return 0;
}

/* A start function (pip_spawn_from_func): checks its argument, aux and export. */
int start(void *arg) {
  void *aux = NULL, *exp = NULL;
  int pipid = -1, ntasks = -1;
  EXPECT(pip_get_aux(&aux), 0);
  TRUE(aux == (void *)0xa0a0);
  EXPECT(pip_init(&pipid, &ntasks, &exp, 0), 0);
  TRUE(exp == (void *)0xe0e0); /* this task's own export, not the root's */
  EXPECT(pip_set_aux((void *)0xb0b0), 0);
  EXPECT(pip_get_aux(&aux), 0);
  TRUE(aux == (void *)0xb0b0);
  return check_failures ? 100 : (int)(long)arg;
}

/* What tasks check: everything a task may and may not do. */
static int task(int argc, char **argv) {
  const char *what = argc > 1 ? argv[1] : "";
  int pipid = -1, ntasks = -1, mode = 0, flag = 0;
  /* Queries work before pip_init in a task. */
  TRUE(pip_is_initialized() && pip_isa_task() && !pip_isa_root());
  EXPECT(pip_get_pipid(&pipid), 0);
  EXPECT(pip_get_pipid(NULL), 0); /* PiP: a NULL pointer is not an error */
  EXPECT(pip_get_ntasks(&ntasks), 0);
  EXPECT(pip_get_ntasks(NULL), 0);
  TRUE(ntasks == 8);
  EXPECT(pip_get_mode(&mode), 0);
  EXPECT(pip_get_mode(NULL), 0);
  TRUE(mode == (int)(process_mode() ? PIP_MODE_PROCESS : PIP_MODE_PTHREAD));
  TRUE(pip_get_mode_str() != NULL &&
       strcmp(pip_get_mode_str(),
              process_mode() ? PIP_ENV_MODE_PROCESS : PIP_ENV_MODE_PTHREAD) == 0);
  EXPECT(pip_is_threaded(&flag), 0);
  TRUE(flag == !process_mode());
  EXPECT(pip_is_shared_fd(&flag), 0);
  TRUE(flag == !process_mode());
  void *exp = NULL;
  int p2 = -1;
  EXPECT(pip_init(&p2, NULL, &exp, 0), 0);
  TRUE(p2 == pipid);
  TRUE(exp == (void *)0x5eed); /* spawned without an exp: the root's export */
  pip_id_t id = 0;
  EXPECT(pip_get_system_id(PIP_PIPID_MYSELF, &id), 0);
  TRUE(id == own_system_id());

  /* Root-only calls. */
  int status;
  EXPECT(pip_spawn(argv[0], argv, NULL, PIP_CPUCORE_ASIS, NULL, NULL, NULL, NULL), EPERM);
  EXPECT(pip_wait(0, &status), EPERM);
  EXPECT(pip_trywait_any(NULL, &status), EPERM);
  EXPECT(pip_kill_all_tasks(), EPERM);
  EXPECT(pip_fin(), 0); /* a no-op in a task */

  /* Imports from oneself. */
  void *got = NULL;
  EXPECT(pip_named_import(PIP_PIPID_MYSELF, &got, "never-%d", pipid), EDEADLK);
  EXPECT(pip_named_tryimport(pipid, &got, "never"), EDEADLK);
  EXPECT(pip_named_export(&dummy, "twice"), 0);
  EXPECT(pip_named_export(&dummy, "twice"), EBUSY);
  EXPECT(pip_named_import(pipid, &got, "twice"), 0); /* exported: returned at once */
  TRUE(got == &dummy);
  EXPECT(pip_named_export(NULL, "null"), EINVAL);
  EXPECT(pip_named_import(PIP_PIPID_ANY, &got, "x"), EINVAL);
  EXPECT(pip_named_import(ntasks, &got, "x"), ERANGE);
  EXPECT(pip_named_import(-5, &got, "x"), ERANGE);
  EXPECT(pip_export(NULL), EINVAL);
  EXPECT(pip_export(&dummy), 0);
  EXPECT(pip_import(pipid, &got), 0);
  TRUE(got == &dummy);
  EXPECT(pip_import(PIP_PIPID_ROOT, &got), 0);
  TRUE(got == (void *)0x5eed); /* what the root exported */
  EXPECT(pip_kill(ntasks + 1, 0), ERANGE);

  if (!strcmp(what, "cancel")) {
    /* Task 1 imports a name that task 2 never exports: task 2's end cancels the import. */
    EXPECT(pip_named_import(2, &got, "never"), ECANCELED);
  }
  if (!strcmp(what, "sleep")) {
    for (;;) pause();
  }
  if (!strcmp(what, "id")) {
    EXPECT(pip_named_export((void *)own_system_id(), "thread"), 0);
    void *go;
    EXPECT(pip_named_import(PIP_PIPID_ROOT, &go, "go"), 0);
  }
  return check_failures ? 100 : 0;
}

int main(int argc, char **argv) {
  if (pip_isa_task()) return task(argc, argv);

  /* Before pip_init. */
  int pipid = -1, ntasks = 8, status = 0, x = 0;
  void *got;
  TRUE(!pip_is_initialized() && !pip_isa_root() && !pip_isa_task());
  TRUE(pip_get_mode_str() == NULL);
  EXPECT(pip_get_pipid(&pipid), EPERM);
  EXPECT(pip_get_pipid(NULL), EPERM);
  EXPECT(pip_get_mode(NULL), EPERM);
  EXPECT(pip_get_ntasks(&x), EPERM);
  EXPECT(pip_get_mode(&x), EPERM);
  EXPECT(pip_spawn(argv[0], argv, NULL, PIP_CPUCORE_ASIS, NULL, NULL, NULL, NULL), EPERM);
  EXPECT(pip_wait(0, &status), EPERM);
  EXPECT(pip_wait_any(&x, &status), EPERM);
  EXPECT(pip_fin(), EPERM);
  EXPECT(pip_export(&dummy), EPERM);
  EXPECT(pip_named_export(&dummy, "x"), EPERM);
  EXPECT(pip_import(0, &got), EPERM);
  EXPECT(pip_kill(0, 0), EPERM);
  EXPECT(pip_kill_all_tasks(), EPERM);
  EXPECT(pip_set_aux(NULL), EPERM);

  /* pip_init's checks. */
  x = 0;
  EXPECT(pip_init(&pipid, &x, NULL, 0), EINVAL);
  x = -1;
  EXPECT(pip_init(&pipid, &x, NULL, 0), EINVAL);
  x = PIP_NTASKS_MAX + 1;
  EXPECT(pip_init(&pipid, &x, NULL, 0), EOVERFLOW);
  EXPECT(pip_init(&pipid, &ntasks, NULL, 0x1), EINVAL);
  EXPECT(pip_init(&pipid, &ntasks, NULL, PIP_MODE_PTHREAD | PIP_MODE_PROCESS), EINVAL);
  EXPECT(pip_init(&pipid, &ntasks, NULL, PIP_MODE_PROCESS_PRELOAD | PIP_MODE_PROCESS_PIPCLONE),
         EINVAL);
  EXPECT(pip_init(&pipid, &ntasks, NULL, PIP_MODE_PROCESS_PRELOAD), EPERM);
  EXPECT(pip_init(&pipid, &ntasks, NULL, PIP_MODE_PROCESS_PIPCLONE), EPERM);
  EXPECT(pip_init(&pipid, &ntasks, NULL, PIP_MODE_PROCESS_GOT), EPERM);
  /* A mode that clashes with PIP_MODE. */
  EXPECT(pip_init(&pipid, &ntasks, NULL, process_mode() ? PIP_MODE_PTHREAD : 0), process_mode() ? EPERM : 0);
  if (!process_mode()) EXPECT(pip_fin(), 0);
  void *root_exp = (void *)0x5eed;
  EXPECT(pip_init(&pipid, &ntasks, &root_exp, process_mode() ? PIP_MODE_PROCESS : PIP_MODE_PTHREAD),
         0);
  TRUE(pipid == PIP_PIPID_ROOT);
  EXPECT(pip_init(&pipid, &ntasks, NULL, 0), EBUSY);
  EXPECT(pip_get_pipid(NULL), 0);
  EXPECT(pip_get_mode(NULL), 0);
  EXPECT(pip_get_ntasks(NULL), 0);
  EXPECT(pip_is_threaded(NULL), EINVAL);
  EXPECT(pip_get_pipid(&x), 0);
  TRUE(x == PIP_PIPID_ROOT);
  TRUE(pip_is_initialized() && pip_isa_root() && !pip_isa_task());
  EXPECT(pip_export((void *)0x5eed), 0);
  EXPECT(pip_get_system_id(PIP_PIPID_ROOT, (pip_id_t *)&got), EINVAL);
  EXPECT(pip_yield(PIP_YIELD_DEFAULT), 0);
  EXPECT(pip_yield(99), EINVAL);
  EXPECT(pip_set_aux((void *)0x1234), 0);
  EXPECT(pip_get_aux(&got), 0);
  TRUE(got == (void *)0x1234);
  pip_info_mesg("hello %d", 42);
  char idstr[8];
  TRUE(pip_idstr(idstr, sizeof idstr) == 3 && !strcmp(idstr, "<R>"));
  /* A NULL format is the empty name. */
  EXPECT(pip_named_export(&dummy, NULL), 0);
  EXPECT(pip_named_tryimport(PIP_PIPID_MYSELF, &got, "%s", ""), 0);
  TRUE(got == &dummy);

  /* Spawning errors. */
  pip_spawn_program_t prog;
  int p;
  EXPECT(pip_task_spawn(NULL, PIP_CPUCORE_ASIS, 0, NULL, NULL), EINVAL);
  pip_spawn_from_main(&prog, NULL, NULL, NULL, NULL, NULL);
  EXPECT(pip_task_spawn(&prog, PIP_CPUCORE_ASIS, 0, NULL, NULL), EINVAL);
  EXPECT(pip_spawn(NULL, argv, NULL, PIP_CPUCORE_ASIS, NULL, NULL, NULL, NULL), EINVAL);
  int bad_ids[] = {100000, -123, PIP_PIPID_MYSELF, PIP_PIPID_ROOT, 8};
  for (unsigned i = 0; i < sizeof bad_ids / sizeof bad_ids[0]; i++) {
    p = bad_ids[i];
    EXPECT(pip_spawn(argv[0], argv, NULL, PIP_CPUCORE_ASIS, &p, NULL, NULL, NULL), EINVAL);
  }
  p = 0;
  EXPECT(pip_spawn(argv[0], argv, NULL, 3U << PIP_CPUCORE_FLAG_SHIFT, &p, NULL, NULL, NULL),
         EINVAL);
  EXPECT(pip_spawn(argv[0], argv, NULL, PIP_CPUCORE_CORENO_MAX | PIP_CPUCORE_ABS, &p, NULL, NULL,
                   NULL),
         EINVAL);
  char noslash[] = "errors", missing[] = "./no-such-program", notexec[] = "./not-exec",
       notelf[] = "./not-elf", nofunc[] = "no_such_function";
  EXPECT(pip_spawn(noslash, argv, NULL, PIP_CPUCORE_ASIS, &p, NULL, NULL, NULL), ENOENT);
  EXPECT(pip_spawn(missing, argv, NULL, PIP_CPUCORE_ASIS, &p, NULL, NULL, NULL), ENOENT);
  EXPECT(pip_spawn(notexec, argv, NULL, PIP_CPUCORE_ASIS, &p, NULL, NULL, NULL), EACCES);
  EXPECT(pip_spawn(notelf, argv, NULL, PIP_CPUCORE_ASIS, &p, NULL, NULL, NULL), ELIBBAD);
  pip_spawn_from_func(&prog, argv[0], nofunc, NULL, NULL, NULL, NULL);
  EXPECT(pip_task_spawn(&prog, PIP_CPUCORE_ASIS, 0, &p, NULL), ENOEXEC);
  char hidden[] = "hidden_start";
  pip_spawn_from_func(&prog, argv[0], hidden, NULL, NULL, NULL, NULL);
  EXPECT(pip_task_spawn(&prog, PIP_CPUCORE_ASIS, 0, &p, NULL), ENOEXEC);

  /* Waiting on bad ids. */
  EXPECT(pip_wait(-123, &status), EINVAL); /* PiP v2.0: a negative pipid is EINVAL */
  EXPECT(pip_trywait(-1, &status), EINVAL);
  EXPECT(pip_wait(8, &status), ERANGE);
  EXPECT(pip_wait(PIP_PIPID_ROOT, &status), EDEADLK);
  EXPECT(pip_wait(PIP_PIPID_MYSELF, &status), EDEADLK);
  EXPECT(pip_wait(PIP_PIPID_ANY, &status), EINVAL);
  EXPECT(pip_wait(3, &status), ECHILD); /* never spawned */
  EXPECT(pip_trywait(3, &status), ECHILD);
  EXPECT(pip_wait_any(&x, &status), ECHILD); /* nothing spawned yet */
  EXPECT(pip_trywait_any(&x, &status), ECHILD);

  /* Task 0: main, no exp (gets the root's). Task 1 waits for task 2's export, task 2 ends
   * without it: ECANCELED. */
  char *task_argv[] = {argv[0], "check", NULL};
  p = 0;
  EXPECT(pip_spawn(argv[0], task_argv, NULL, 0, &p, NULL, NULL, NULL), 0);
  p = 0;
  EXPECT(pip_spawn(argv[0], task_argv, NULL, PIP_CPUCORE_ASIS, &p, NULL, NULL, NULL), EAGAIN);
  EXPECT(pip_wait(0, &status), 0);
  TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT(pip_wait(0, &status), ECHILD); /* already waited for */
  p = 0;
  EXPECT(pip_spawn(argv[0], task_argv, NULL, PIP_CPUCORE_ASIS, &p, NULL, NULL, NULL), EAGAIN);

  char *cancel_argv[] = {argv[0], "cancel", NULL};
  p = 1;
  EXPECT(pip_spawn(argv[0], cancel_argv, NULL, PIP_CPUCORE_ASIS, &p, NULL, NULL, NULL), 0);
  p = 2;
  EXPECT(pip_spawn(argv[0], task_argv, NULL, PIP_CPUCORE_ASIS, &p, NULL, NULL, NULL), 0);
  for (int i = 1; i <= 2; i++) {
    EXPECT(pip_wait(i, &status), 0);
    TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }

  /* A start function with an argument, aux and exp (task 3). */
  char func[] = "start";
  pip_spawn_from_func(&prog, argv[0], func, (void *)42, NULL, (void *)0xe0e0, (void *)0xa0a0);
  p = 3;
  EXPECT(pip_task_spawn(&prog, 0 | PIP_CPUCORE_ABS, 0, &p, NULL), 0);
  EXPECT(pip_wait(3, &status), 0);
  TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 42);

  /* A running task: fin is refused, trywait says not yet, its system id is its pthread_t;
   * afterwards kill gives ESRCH. */
  char *id_argv[] = {argv[0], "id", NULL};
  p = 4;
  EXPECT(pip_spawn(argv[0], id_argv, NULL, PIP_CPUCORE_ASIS, &p, NULL, NULL, NULL), 0);
  void *thread = NULL;
  EXPECT(pip_named_import(4, &thread, "thread"), 0);
  pip_id_t id = 0;
  EXPECT(pip_get_system_id(4, &id), 0);
  TRUE(id == (pip_id_t)thread);
  EXPECT(pip_trywait(4, &status), ECHILD);
  EXPECT(pip_fin(), EBUSY);
  EXPECT(pip_kill(4, 0), 0);
  EXPECT(pip_kill(4, 1000), EINVAL);
  EXPECT(pip_kill(PIP_PIPID_ANY, 0), EINVAL);
  EXPECT(pip_kill(-9, 0), ERANGE);
  EXPECT(pip_named_export(&dummy, "go"), 0);
  EXPECT(pip_wait_any(&x, &status), 0);
  TRUE(x == 4 && WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT(pip_kill(4, 0), ESRCH);
  EXPECT(pip_get_system_id(4, &id), ESRCH);
  EXPECT(pip_wait_any(&x, &status), ECHILD);

  /* Barriers. */
  pip_barrier_t b = PIP_BARRIER_INIT(1);
  EXPECT(pip_barrier_wait(&b), 0);
  EXPECT(pip_barrier_fin(&b), 0);
  EXPECT(pip_barrier_init(NULL, 2), EINVAL);
  EXPECT(pip_barrier_init(&b, 0), EINVAL);
  EXPECT(pip_barrier_init(&b, 2), 0);

  EXPECT(pip_fin(), 0);
  EXPECT(pip_fin(), EPERM);
  TRUE(!pip_is_initialized());
  if (check_failures == 0) printf("errors: ok\n");
  return CHECK_RESULT();
}
