/*
 * The C part of libpip.so: what stable Rust cannot define.
 *
 * 1. The variadic functions of pip.h (printf-style names and messages). Each formats its
 *    arguments and calls the non-variadic function that the Rust library exports.
 * 2. The entry point that makes libpip.so runnable (`./libpip.so --version`): the kernel starts
 *    it with the dynamic linker named in its .interp section; the dynamic linker relocates it,
 *    initialises libc, and jumps here with the initial stack (argc, argv...). No C or Rust
 *    runtime start-up runs, so the code here only reads argc/argv and calls into Rust.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <errno.h>

int pip_named_export_name(void *exp, const char *name);
int pip_named_import_name(int pipid, void **expp, const char *name);
int pip_named_tryimport_name(int pipid, void **expp, const char *name);
void pip_capi_message(int level, const char *text);
int pip_capi_run_as_program(int argc, char **argv);

/* Formats into a malloc'ed string; NULL format means the empty name. Returns NULL on ENOMEM. */
static char *format_name(const char *format, va_list ap) {
  char *s = NULL;
  if (format == NULL) format = "";
  if (vasprintf(&s, format, ap) < 0) return NULL;
  return s;
}

int pip_named_export(void *exp, const char *format, ...) {
  va_list ap;
  va_start(ap, format);
  char *name = format_name(format, ap);
  va_end(ap);
  if (name == NULL) return ENOMEM;
  int rc = pip_named_export_name(exp, name);
  free(name);
  return rc;
}

int pip_named_import(int pipid, void **expp, const char *format, ...) {
  va_list ap;
  va_start(ap, format);
  char *name = format_name(format, ap);
  va_end(ap);
  if (name == NULL) return ENOMEM;
  int rc = pip_named_import_name(pipid, expp, name);
  free(name);
  return rc;
}

int pip_named_tryimport(int pipid, void **expp, const char *format, ...) {
  va_list ap;
  va_start(ap, format);
  char *name = format_name(format, ap);
  va_end(ap);
  if (name == NULL) return ENOMEM;
  int rc = pip_named_tryimport_name(pipid, expp, name);
  free(name);
  return rc;
}

static void message(int level, const char *format, va_list ap) {
  char *text = format_name(format, ap);
  if (text != NULL) {
    pip_capi_message(level, text);
    free(text);
  }
}

void pip_info_mesg(const char *format, ...) {
  va_list ap;
  va_start(ap, format);
  message(0, format, ap);
  va_end(ap);
}

void pip_warn_mesg(const char *format, ...) {
  va_list ap;
  va_start(ap, format);
  message(1, format, ap);
  va_end(ap);
}

void pip_err_mesg(const char *format, ...) {
  va_list ap;
  va_start(ap, format);
  message(2, format, ap);
  va_end(ap);
}

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
