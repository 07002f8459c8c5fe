/*
 * The C part of libpip.so: the entry point that makes the library runnable
 * (`./libpip.so --version`). The kernel starts the library with the dynamic linker named in its
 * .interp section; the dynamic linker relocates it, initialises libc, and jumps here with the
 * initial stack (argc, argv...). No C or Rust runtime start-up runs, so the code here only reads
 * argc/argv and calls into Rust.
 */
#include <stdio.h>
#include <stdlib.h>

int pip_capi_run_as_program(int argc, char **argv);

#if defined(PIP_CAPI_RUNNABLE) && defined(__x86_64__)
/* Called by the entry below with the initial stack pointer: [argc][argv...][NULL][envp...]. */
__attribute__((noreturn, used, visibility("hidden"))) void pip_capi_start_c(long *sp);
void pip_capi_start_c(long *sp) {
  int argc = (int)sp[0];
  char **argv = (char **)(sp + 1);
  int code = pip_capi_run_as_program(argc, argv);
  fflush(NULL);
  exit(code);
}

/* The entry point (ELF e_entry, set with -Wl,-e,pip_capi_start): clear the frame pointer,
 * pass the initial stack pointer, align the stack as the ABI requires for a call. */
__asm__(".text\n"
        ".globl pip_capi_start\n"
        ".type pip_capi_start,@function\n"
        "pip_capi_start:\n"
        "  xorl %ebp, %ebp\n"
        "  movq %rsp, %rdi\n"
        "  andq $-16, %rsp\n"
        "  call pip_capi_start_c\n"
        "  hlt\n"
        ".size pip_capi_start, .-pip_capi_start\n");

/* The dynamic linker the kernel starts for `./libpip.so` (a PT_INTERP segment). */
const char pip_capi_interp[] __attribute__((section(".interp"), used)) = PIP_CAPI_INTERP;
#endif
