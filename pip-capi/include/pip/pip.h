/*
 * pip.h: the Process-in-Process (PiP) C API, version 2.0, as implemented by pip-rs's libpip.so.
 *
 * Source-compatible with programs written for PiP v2.0 (the API of the RIKEN test suite):
 * the same functions, types, constants and values, and the same return convention: every
 * function that returns an int returns 0 on success or an errno value (never -1).
 *
 * Build programs with pipcc, which adds the include path, links libpip.so and makes the
 * program usable both as a root and as a task. See docs/c-api.md in pip-rs for what differs
 * from RIKEN's implementation (PIP_MODE_PROCESS is pip-rs's own process mode; PiP's process
 * sub-modes, which need PiP's patched glibc, are refused with EPERM).
 */
#ifndef PIP_PIP_H
#define PIP_PIP_H

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Version of the API this header describes ------------------------------------------- */

#define PIP_API_VERSION 0x2000 /* PiP v2.0 */

/* ---- Options of pip_init: execution modes ------------------------------------------------- */

#define PIP_OPTS_NONE 0x0

#define PIP_MODE_PTHREAD 0x1000U
#define PIP_MODE_PROCESS 0x2000U
#define PIP_MODE_PROCESS_PRELOAD 0x2100U
#define PIP_MODE_PROCESS_PIPCLONE 0x2200U
#define PIP_MODE_PROCESS_GOT 0x2400U
#define PIP_MODE_MASK 0xFF00U

#define PIP_VALID_OPTS \
  (PIP_MODE_PTHREAD | PIP_MODE_PROCESS_PRELOAD | PIP_MODE_PROCESS_PIPCLONE | PIP_MODE_PROCESS_GOT)

/* ---- Environment variables ---------------------------------------------------------------- */

#define PIP_ENV_MODE "PIP_MODE"
#define PIP_ENV_MODE_THREAD "thread"
#define PIP_ENV_MODE_PTHREAD "pthread"
#define PIP_ENV_MODE_PROCESS "process"
#define PIP_ENV_MODE_PROCESS_PRELOAD "process:preload"
#define PIP_ENV_MODE_PROCESS_PIPCLONE "process:pipclone"
#define PIP_ENV_MODE_PROCESS_GOT "process:got"

#define PIP_ENV_STOP_ON_START "PIP_STOP_ON_START"
#define PIP_ENV_GDB_PATH "PIP_GDB_PATH"
#define PIP_ENV_GDB_COMMAND "PIP_GDB_COMMAND"
#define PIP_ENV_GDB_SIGNALS "PIP_GDB_SIGNALS"
#define PIP_ENV_SHOW_MAPS "PIP_SHOW_MAPS"
#define PIP_ENV_SHOW_PIPS "PIP_SHOW_PIPS"
#define PIP_ENV_STACKSZ "PIP_STACKSZ"

/* ---- PiP ids ------------------------------------------------------------------------------ */

#define PIP_MAGIC_NUM (-747)
#define PIP_PIPID_ROOT (-748)
#define PIP_PIPID_MYSELF (-749)
#define PIP_PIPID_SELF PIP_PIPID_MYSELF
#define PIP_PIPID_ANY (-750)
#define PIP_PIPID_NULL (-751)

#define PIP_NTASKS_MAX 300

/* ---- CPU core numbers of pip_task_spawn ---------------------------------------------------- */

#define PIP_CPUCORE_FLAG_SHIFT 24
#define PIP_CPUCORE_FLAG_MASK (0xFFU << PIP_CPUCORE_FLAG_SHIFT)
#define PIP_CPUCORE_ASIS (1U << PIP_CPUCORE_FLAG_SHIFT)
#define PIP_CPUCORE_ABS (2U << PIP_CPUCORE_FLAG_SHIFT)
#define PIP_CPUCORE_CORENO_MASK ((1U << PIP_CPUCORE_FLAG_SHIFT) - 1)
#define PIP_CPUCORE_CORENO_MAX ((1U << 20) - 1)

/* ---- pip_yield flags ---------------------------------------------------------------------- */

#define PIP_YIELD_DEFAULT 0
#define PIP_YIELD_USER 1
#define PIP_YIELD_SYSTEM 2

/* ---- Types -------------------------------------------------------------------------------- */

/* What to spawn: fill it with pip_spawn_from_main or pip_spawn_from_func. */
typedef struct {
  char *prog;     /* the program file (must contain a '/') */
  char **argv;    /* argv of main (NULL-terminated) */
  char **envv;    /* the task's environment (NULL: the root's) */
  char *funcname; /* a start function `int f(void *)` instead of main, or NULL */
  void *arg;      /* the start function's argument */
  void *exp;      /* the export this task gets from pip_init (NULL: the root's export) */
  void *aux;      /* the task's aux pointer (pip_get_aux) */
  void *reserved[2];
} pip_spawn_program_t;

/* A hook: runs on the new task's thread before main (before) or when it ends (after). */
typedef int (*pip_spawnhook_t)(void *);

typedef struct {
  pip_spawnhook_t before;
  pip_spawnhook_t after;
  void *hookarg;
  void *reserved[5];
} pip_spawn_hook_t;

/* A system id of a task (its pthread_t in the pthread mode). */
typedef uintptr_t pip_id_t;

/* A barrier in user memory, shared by address (usually exported). */
typedef struct pip_barrier {
  int count_init;
  volatile uint32_t count;
  volatile int gsense;
} pip_barrier_t;

#define PIP_BARRIER_INIT(N) {(N), (N), 0}

/* ---- Spawning helpers --------------------------------------------------------------------- */

extern char **environ;

/* Fills *progp to run main of prog (NULL: argv[0]) with argv and envv (NULL: environ). */
static inline void pip_spawn_from_main(pip_spawn_program_t *progp, char *prog, char **argv,
                                       char **envv, void *exp, void *aux) {
  memset(progp, 0, sizeof(*progp));
  progp->prog = (prog != NULL) ? prog : (argv != NULL ? argv[0] : NULL);
  progp->argv = argv;
  progp->envv = (envv != NULL) ? envv : environ;
  progp->exp = exp;
  progp->aux = aux;
}

/* Fills *progp to run the start function `int funcname(void *arg)` of prog. */
static inline void pip_spawn_from_func(pip_spawn_program_t *progp, char *prog, char *funcname,
                                       void *arg, char **envv, void *exp, void *aux) {
  memset(progp, 0, sizeof(*progp));
  progp->prog = prog;
  progp->funcname = funcname;
  progp->arg = arg;
  progp->envv = (envv != NULL) ? envv : environ;
  progp->exp = exp;
  progp->aux = aux;
}

/* Fills *hook with the before and after hooks and their argument. */
static inline void pip_spawn_hook(pip_spawn_hook_t *hook, pip_spawnhook_t before,
                                  pip_spawnhook_t after, void *hookarg) {
  memset(hook, 0, sizeof(*hook));
  hook->before = before;
  hook->after = after;
  hook->hookarg = hookarg;
}

/* ---- Initialisation ----------------------------------------------------------------------- */

/* Root: starts a job of *ntasks tasks (NULL: PIP_NTASKS_MAX) and sets the root export.
 * Task: gives the task's pipid, the job's ntasks and the task's export. */
int pip_init(int *pipidp, int *ntasks, void **root_expp, int opts);
/* Root: ends the job (EBUSY while a task has not been waited for). Task: does nothing. */
int pip_fin(void);

/* ---- Spawning ----------------------------------------------------------------------------- */

int pip_task_spawn(pip_spawn_program_t *progp, uint32_t coreno, uint32_t opts, int *pipidp,
                   pip_spawn_hook_t *hookp);
int pip_spawn(char *filename, char **argv, char **envv, int coreno, int *pipidp,
              pip_spawnhook_t before, pip_spawnhook_t after, void *hookarg);

/* ---- Exporting and importing addresses ---------------------------------------------------- */

int pip_export(void *exp);
int pip_import(int pipid, void **expp);
/* The named exports take the name as a printf format (see the inline functions below); these
 * take it formatted. */
int pip_named_export_name(void *exp, const char *name);
int pip_named_import_name(int pipid, void **expp, const char *name);
int pip_named_tryimport_name(int pipid, void **expp, const char *name);
int pip_set_aux(void *aux);
int pip_get_aux(void **auxp);

/* ---- Queries ------------------------------------------------------------------------------ */

int pip_get_pipid(int *pipidp);
int pip_get_ntasks(int *ntasksp);
int pip_get_mode(int *modep);
const char *pip_get_mode_str(void);
int pip_get_system_id(int pipid, pip_id_t *idp);
int pip_is_initialized(void);
int pip_isa_root(void);
int pip_isa_task(void);
int pip_is_threaded(int *flagp);
int pip_is_shared_fd(int *flagp);

/* ---- Waiting (root only) ------------------------------------------------------------------ */

int pip_wait(int pipid, int *status);
int pip_trywait(int pipid, int *status);
int pip_wait_any(int *pipid, int *status);
int pip_trywait_any(int *pipid, int *status);

/* ---- Termination and signals -------------------------------------------------------------- */

void pip_exit(int status) __attribute__((noreturn));
int pip_kill_all_tasks(void);
/* PiP v2.4.1's name of pip_kill_all_tasks. */
int pip_kill_all_child_tasks(void);
void pip_abort(void) __attribute__((noreturn));
int pip_kill(int pipid, int signal);
int pip_sigmask(int how, const sigset_t *set, sigset_t *oldset);
int pip_signal_wait(int signal);

/* ---- Synchronisation ---------------------------------------------------------------------- */

int pip_yield(int flag);
int pip_barrier_init(pip_barrier_t *barrp, int n);
int pip_barrier_wait(pip_barrier_t *barrp);
int pip_barrier_fin(pip_barrier_t *barrp);

#ifndef DOXYGEN
/* ---- Semi-public helpers ------------------------------------------------------------------ */

/* The calling thread's kernel thread id. */
pid_t pip_gettid(void);
/* Writes "<R>" / "<T:N>" (who is calling) to buf; returns the length it needed. */
size_t pip_idstr(char *buf, size_t size);
/* 0 if path can be a task, else an errno value (ENOENT, EACCES, ELIBBAD, ELIBEXEC, ENOEXEC);
 * with verbose != 0 the reason goes to stderr. */
int pip_check_pie(const char *path, int verbose);
/* Prints a message on stderr, prefixed with "PiP-INFO" (level 0), "PiP-WARN" (1) or "PiP-ERR"
 * (2) and the caller's id; pip_info_mesg and friends below format it. */
void pip_capi_message(int level, const char *text);
/* 1 if libpip.so is a debug build, else 0 (PiP's tests scale their limits with it). */
int pip_is_debug_build(void);
/* With PIP_SHOW_MAPS=on, prints the process's memory map on stderr. */
void pip_debug_info(void);
/* The time of day in seconds (PiP v2.4). */
double pip_gettime(void);

/* PiP's loader lock: one recursive lock for the whole job (the root and every task), which the
 * pip_dl* functions below hold around the dl* call of the same name. pip_libc_lock/unlock are
 * PiP v2.4's names for it. */
void pip_glibc_lock(void);
void pip_glibc_unlock(void);
void pip_libc_lock(void);
void pip_libc_unlock(void);
/* A second job-wide recursive lock, for the program's own use (PiP v2.4). */
void pip_universal_lock(void);
void pip_universal_unlock(void);

/* The locked dl* functions (also declared by pip/pip_dlfcn.h, as in PiP). */
void *pip_dlopen(const char *filename, int flag);
void *pip_dlmopen(long lmid, const char *path, int flag);
int pip_dlinfo(void *handle, int request, void *info);
void *pip_dlsym(void *handle, const char *symbol);
int pip_dladdr(void *addr, void *info);
int pip_dlclose(void *handle);
char *pip_dlerror(void);
#endif

/* ---- The functions that take printf-style formats ------------------------------------------
 * They are defined here, not in libpip.so: each formats its text and calls the library's
 * function that takes it formatted. (A format of NULL is the empty name.) */

/* Formats into malloc'ed memory; NULL when out of memory. */
static inline char *pip_format_(const char *format, va_list ap) {
  va_list copy;
  const char *f = (format != NULL) ? format : "";
  va_copy(copy, ap);
  int n = vsnprintf(NULL, 0, f, copy);
  va_end(copy);
  if (n < 0) return NULL;
  char *text = (char *)malloc((size_t)n + 1);
  if (text != NULL) vsnprintf(text, (size_t)n + 1, f, ap);
  return text;
}

/* Exports exp under a name made like printf's output; wakes the tasks waiting to import it. */
static inline int pip_named_export(void *exp, const char *format, ...)
    __attribute__((format(printf, 2, 3)));
static inline int pip_named_export(void *exp, const char *format, ...) {
  va_list ap;
  va_start(ap, format);
  char *name = pip_format_(format, ap);
  va_end(ap);
  if (name == NULL) return ENOMEM;
  int rc = pip_named_export_name(exp, name);
  free(name);
  return rc;
}

/* Waits until task pipid has exported the name, and gives the address. */
static inline int pip_named_import(int pipid, void **expp, const char *format, ...)
    __attribute__((format(printf, 3, 4)));
static inline int pip_named_import(int pipid, void **expp, const char *format, ...) {
  va_list ap;
  va_start(ap, format);
  char *name = pip_format_(format, ap);
  va_end(ap);
  if (name == NULL) return ENOMEM;
  int rc = pip_named_import_name(pipid, expp, name);
  free(name);
  return rc;
}

/* Like pip_named_import, but EAGAIN instead of waiting. */
static inline int pip_named_tryimport(int pipid, void **expp, const char *format, ...)
    __attribute__((format(printf, 3, 4)));
static inline int pip_named_tryimport(int pipid, void **expp, const char *format, ...) {
  va_list ap;
  va_start(ap, format);
  char *name = pip_format_(format, ap);
  va_end(ap);
  if (name == NULL) return ENOMEM;
  int rc = pip_named_tryimport_name(pipid, expp, name);
  free(name);
  return rc;
}

#ifndef DOXYGEN
static inline void pip_message_(int level, const char *format, va_list ap) {
  char *text = pip_format_(format, ap);
  if (text != NULL) {
    pip_capi_message(level, text);
    free(text);
  }
}

static inline void pip_info_mesg(const char *format, ...) __attribute__((format(printf, 1, 2)));
static inline void pip_info_mesg(const char *format, ...) {
  va_list ap;
  va_start(ap, format);
  pip_message_(0, format, ap);
  va_end(ap);
}

static inline void pip_warn_mesg(const char *format, ...) __attribute__((format(printf, 1, 2)));
static inline void pip_warn_mesg(const char *format, ...) {
  va_list ap;
  va_start(ap, format);
  pip_message_(1, format, ap);
  va_end(ap);
}

/* Prints "PiP-INFO<id> message" on fp (PiP's pip_info_fmesg). */
static inline void pip_info_fmesg(FILE *fp, const char *format, ...)
    __attribute__((format(printf, 2, 3)));
static inline void pip_info_fmesg(FILE *fp, const char *format, ...) {
  va_list ap;
  char id[32];
  va_start(ap, format);
  char *text = pip_format_(format, ap);
  va_end(ap);
  if (text == NULL) return;
  pip_idstr(id, sizeof(id));
  size_t n = strlen(text);
  fprintf(fp != NULL ? fp : stderr, "PiP-INFO%s %s%s", id, text,
          (n > 0 && text[n - 1] == '\n') ? "" : "\n");
  free(text);
}

static inline void pip_err_mesg(const char *format, ...) __attribute__((format(printf, 1, 2)));
static inline void pip_err_mesg(const char *format, ...) {
  va_list ap;
  va_start(ap, format);
  pip_message_(2, format, ap);
  va_end(ap);
}
#endif

#ifdef __cplusplus
}
#endif

#endif /* PIP_PIP_H */
