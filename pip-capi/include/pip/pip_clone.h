/*
 * pip_clone.h: the clone(2) flags of PiP's process execution modes.
 *
 * pip_clone_flags() turns the flags that pthread_create passes to clone(2) into those of a
 * PiP "process" task: a child with its own pid, fd table, fs information and signal handlers,
 * sharing the address space and keeping the thread's TLS. pip-rs does not use it (it offers the
 * pthread mode only, see docs/c-api.md); programs that probe the kernel with it still build.
 */
#ifndef PIP_PIP_CLONE_H
#define PIP_PIP_CLONE_H

#include <linux/sched.h> /* the CLONE_* flags, whatever feature macros are in force */
#include <signal.h>

static inline int pip_clone_flags(int flags) {
  flags &= ~(CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_PARENT | CLONE_THREAD | CLONE_NEWNET |
             CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS);
  flags |= CLONE_VM | CLONE_PTRACE | CLONE_SETTLS;
  flags &= ~0xff;
  flags |= SIGCHLD;
  return flags;
}

#endif /* PIP_PIP_CLONE_H */
