/*
 * pip_machdep.h: spin locks, atomics and pauses for code shared between PiP tasks.
 *
 * Built on the GCC/Clang __atomic builtins, so it works on every architecture those compilers
 * support. The lock and the atomic type are plain integers in user memory: put them in memory
 * that every task reaches (an exported address), as with pip_barrier_t.
 */
#ifndef PIP_PIP_MACHDEP_H
#define PIP_PIP_MACHDEP_H

#include <stdint.h>

typedef volatile int pip_spinlock_t;
typedef volatile intptr_t pip_atomic_t;

/* A hint to the CPU that we are spinning. */
static inline void pip_pause(void) {
#if defined(__x86_64__) || defined(__i386__)
  __asm__ __volatile__("pause" ::: "memory");
#elif defined(__aarch64__)
  __asm__ __volatile__("yield" ::: "memory");
#else
  __atomic_signal_fence(__ATOMIC_SEQ_CST);
#endif
}

/* A full memory barrier. */
static inline void pip_memory_barrier(void) { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
/* Orders earlier stores before later ones. */
static inline void pip_write_barrier(void) { __atomic_thread_fence(__ATOMIC_RELEASE); }

static inline void pip_spin_init(pip_spinlock_t *lock) {
  __atomic_store_n(lock, 0, __ATOMIC_RELEASE);
}

/* Returns non-zero if the lock was taken. */
static inline int pip_spin_trylock(pip_spinlock_t *lock) {
  return __atomic_load_n(lock, __ATOMIC_RELAXED) == 0 &&
         __atomic_exchange_n(lock, 1, __ATOMIC_ACQUIRE) == 0;
}

static inline void pip_spin_lock(pip_spinlock_t *lock) {
  while (!pip_spin_trylock(lock)) {
    while (__atomic_load_n(lock, __ATOMIC_RELAXED) != 0) pip_pause();
  }
}

static inline void pip_spin_unlock(pip_spinlock_t *lock) {
  __atomic_store_n(lock, 0, __ATOMIC_RELEASE);
}

static inline void pip_spin_fin(pip_spinlock_t *lock) { (void)lock; }

/* Atomically adds v to *p and returns the old value. */
static inline intptr_t pip_atomic_fetch_and_add(pip_atomic_t *p, intptr_t v) {
  return __atomic_fetch_add(p, v, __ATOMIC_SEQ_CST);
}

/* Atomically subtracts v from *p and returns the new value. */
static inline intptr_t pip_atomic_sub_and_fetch(pip_atomic_t *p, intptr_t v) {
  return __atomic_sub_fetch(p, v, __ATOMIC_SEQ_CST);
}

/* Atomically replaces *p with new if it holds old; returns non-zero if it did. */
static inline int pip_comp_and_swap(pip_atomic_t *p, intptr_t old, intptr_t new_value) {
  return __atomic_compare_exchange_n(p, &old, new_value, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}

#endif /* PIP_PIP_MACHDEP_H */
