/* A ring of named exports and imports over ROUNDS rounds: in every round each task exports a
 * fresh value under a name made from the round and its pipid, then imports its right
 * neighbour's (forward) and its left neighbour's (backward), waiting until they exist. */
#include <pip/pip.h>
#include <sys/wait.h>
#include "check.h"

#define ROUNDS 100

static int values[ROUNDS];

static int task(int pipid, int ntasks) {
  int right = (pipid + 1) % ntasks, left = (pipid + ntasks - 1) % ntasks;
  /* The right neighbour cannot end before this task's first export (it imports it), so it is
   * alive here and a try-import of a name it never exports finds nothing yet. */
  void *none = NULL;
  if (ntasks > 1) EXPECT(pip_named_tryimport(right, &none, "never"), EAGAIN);
  for (int r = 0; r < ROUNDS; r++) {
    values[r] = r * 1000 + pipid;
    EXPECT(pip_named_export(&values[r], "round %d of task %d", r, pipid), 0);
    int *fwd = NULL, *bwd = NULL;
    EXPECT(pip_named_import(right, (void **)&fwd, "round %d of task %d", r, right), 0);
    EXPECT(pip_named_import(left, (void **)&bwd, "round %d of task %d", r, left), 0);
    TRUE(fwd && *fwd == r * 1000 + right);
    TRUE(bwd && *bwd == r * 1000 + left);
    if (check_failures) return 100;
  }
  /* The names stay exported (even once their task has ended): a try-import finds them. */
  void *first = NULL;
  EXPECT(pip_named_tryimport(left, &first, "round %d of task %d", 0, left), 0);
  TRUE(first && *(int *)first == left);
  return CHECK_RESULT();
}

int main(int argc, char **argv) {
  int ntasks = argc > 1 ? atoi(argv[1]) : 4, pipid;
  EXPECT(pip_init(&pipid, &ntasks, NULL, 0), 0);
  STOP_ON_FAILURE();
  if (pipid != PIP_PIPID_ROOT) return task(pipid, ntasks);
  for (int i = 0; i < ntasks; i++)
    EXPECT(pip_spawn(argv[0], argv, NULL, PIP_CPUCORE_ASIS, NULL, NULL, NULL, NULL), 0);
  for (int i = 0; i < ntasks; i++) {
    int status = -1, p = -1;
    EXPECT(pip_wait_any(&p, &status), 0);
    TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  EXPECT(pip_fin(), 0);
  if (check_failures == 0) printf("namexp: ok\n");
  return CHECK_RESULT();
}
