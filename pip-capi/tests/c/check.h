/* Helpers of the C test programs: EXPECT compares a PiP call's return value with the errno
 * value (or 0) it must give, and reports the line on a mismatch. */
#ifndef CHECK_H
#define CHECK_H
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_failures;

#define EXPECT(call, want)                                                                   \
  do {                                                                                       \
    int got_ = (call);                                                                       \
    if (got_ != (want)) {                                                                    \
      fprintf(stderr, "FAIL %s:%d: %s gave %d (%s), expected %d (%s)\n", __FILE__, __LINE__, \
              #call, got_, strerror(got_), (want), strerror(want));                          \
      check_failures++;                                                                      \
    }                                                                                        \
  } while (0)

#define TRUE(cond)                                                                 \
  do {                                                                             \
    if (!(cond)) {                                                                 \
      fprintf(stderr, "FAIL %s:%d: %s is false\n", __FILE__, __LINE__, #cond);     \
      check_failures++;                                                            \
    }                                                                              \
  } while (0)

/* Stops the program when a check failed (after pip_init, so that a root that could not start
 * does not go on as if it were a task). */
#define STOP_ON_FAILURE()                                      \
  do {                                                         \
    if (check_failures) {                                      \
      fprintf(stderr, "stopping after the failure above\n"); \
      return 1;                                                \
    }                                                          \
  } while (0)

/* The exit code of a test program: 0 when every check passed. */
#define CHECK_RESULT() (check_failures == 0 ? 0 : 1)

#endif
