/* A plain C program (built with pipcc --nopip): no PiP at all. */
#include <stdio.h>

int main(void) {
  printf("plain\n");
  return 0;
}
