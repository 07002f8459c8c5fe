/* The entry point of a task object run as a program (`./libtask.so`): says how to run it and
   exits with 2. The kernel jumps here with nothing relocated and no libc started (a shared
   object has no interpreter), so the code is position-independent and makes system calls
   only. `_start` is a weak hidden alias: the linkers take it as the entry of a shared object,
   and in a program the C runtime's own `_start` wins. Intel syntax. */
    .pushsection .text.pip_rs_direct_run,"ax",@progbits
    .globl pip_rs_direct_run
    .hidden pip_rs_direct_run
    .type pip_rs_direct_run,@function
    .weak _start
    .hidden _start
    .type _start,@function
_start:
pip_rs_direct_run:
    /* The kernel leaves argc at [rsp] and argv[0] at [rsp + 8]. */
    xor r12d, r12d
    cmp qword ptr [rsp], 0
    je .Lpip_rs_have_name
    mov r12, qword ptr [rsp + 8]
.Lpip_rs_have_name:
    /* No argv[0], or an empty one (the kernel gives "" for an empty argv): say FILE. */
    test r12, r12
    jz .Lpip_rs_no_name
    cmp byte ptr [r12], 0
    jne .Lpip_rs_head
.Lpip_rs_no_name:
    lea r12, [rip + .Lpip_rs_file]
.Lpip_rs_head:
    lea rsi, [rip + .Lpip_rs_text]
    lea rdx, [rip + .Lpip_rs_text_end]
    sub rdx, rsi
    call .Lpip_rs_write
    mov rsi, r12
    xor edx, edx
.Lpip_rs_strlen:
    cmp byte ptr [rsi + rdx], 0
    je .Lpip_rs_name
    inc rdx
    jmp .Lpip_rs_strlen
.Lpip_rs_name:
    call .Lpip_rs_write
    lea rsi, [rip + .Lpip_rs_text_end]
    mov edx, 1
    call .Lpip_rs_write
    mov eax, 231 /* exit_group */
    mov edi, 2
    syscall
    ud2
.Lpip_rs_write: /* write(2, rsi, rdx) */
    mov eax, 1
    mov edi, 2
    syscall
    ret
    .size pip_rs_direct_run, . - pip_rs_direct_run
    .popsection
    .pushsection .rodata.pip_rs_direct_run,"a",@progbits
.Lpip_rs_text:
    .ascii "this is a PiP task: run it with pip-exec -n N "
.Lpip_rs_text_end:
    .ascii "\n"
.Lpip_rs_file:
    .asciz "FILE"
    .popsection
