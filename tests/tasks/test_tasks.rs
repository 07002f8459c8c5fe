//! A task program for the integration tests: `argv[1]` picks a behaviour.
//!
//! Built as a cdylib example (`target/debug/examples/libtest_tasks.so`).
use pip_rs::pip_comm::prelude::*;
use pip_rs::pip_core::{self, Barrier, PipId};
use std::cell::Cell;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

static MY_PIPID: AtomicUsize = AtomicUsize::new(usize::MAX);
static VALUE: AtomicU64 = AtomicU64::new(0);

thread_local! {
    static TL: Cell<u64> = const { Cell::new(42) };
}

fn me() -> usize {
    match pip_core::pipid().expect("pipid") {
        PipId::Task(n) => n,
        PipId::Root => panic!("not a task"),
    }
}

fn barrier() -> &'static Barrier {
    let b: *mut Barrier = pip_core::root_export().expect("root export");
    assert!(!b.is_null(), "the root exported no barrier");
    // SAFETY: the tests export a Barrier that outlives the tasks.
    unsafe { &*b }
}

fn arg(i: usize) -> String {
    pip_core::args().get(i).cloned().unwrap_or_default()
}

#[inline(never)]
fn segfault() -> i32 {
    // SAFETY: not safe at all: this task exists to crash.
    unsafe { std::ptr::read_volatile(16 as *const i32) }
}

fn run() -> i32 {
    match arg(1).as_str() {
        "exit" => arg(2).parse().unwrap(),
        "call_exit" => std::process::exit(arg(2).parse().unwrap()),
        "panic" => panic!("deliberate panic in task {}", me()),
        "segv" => segfault(),
        "abort" => std::process::abort(),
        "statics" => {
            // Write my pipid into a static, meet everyone, and check it is still mine.
            let me = me();
            MY_PIPID.store(me, Ordering::SeqCst);
            let addr = &MY_PIPID as *const AtomicUsize as *mut AtomicUsize;
            pip_core::named_export("static", addr).unwrap();
            barrier().wait();
            assert_eq!(MY_PIPID.load(Ordering::SeqCst), me);
            // statics [M]: tasks 0..M take part (default: all).
            let n = arg(2)
                .parse()
                .unwrap_or_else(|_| pip_core::ntasks().unwrap());
            let other: *mut AtomicUsize =
                pip_core::named_import(PipId::Task((me + 1) % n), "static").unwrap();
            if n > 1 {
                assert_ne!(other, addr, "two tasks share one static");
            }
            // SAFETY: the neighbour's static lives as long as its image: forever.
            assert_eq!(unsafe { &*other }.load(Ordering::SeqCst), (me + 1) % n);
            barrier().wait();
            0
        }
        "tls" => {
            let v = TL.with(|t| t.get());
            let from_thread = std::thread::spawn(|| TL.with(|t| t.get())).join().unwrap();
            TL.with(|t| t.set(7));
            if v == 42 && from_thread == 42 {
                0
            } else {
                eprintln!("thread_local initial value {v}, on a new thread {from_thread}");
                1
            }
        }
        "sleep" => loop {
            std::thread::sleep(std::time::Duration::from_millis(50));
        },
        "import" => {
            // import <pipid> <name>: block until the task exports it, print the value.
            let from: usize = arg(2).parse().unwrap();
            match pip_core::named_import::<AtomicU64>(PipId::Task(from), &arg(3)) {
                // SAFETY: the exporter's static lives forever.
                Ok(p) => unsafe { &*p }.load(Ordering::SeqCst) as i32,
                Err(e) => {
                    eprintln!("import failed: {e}");
                    100 + e.errno()
                }
            }
        }
        "export" => {
            // export <name> <value> <delay ms>
            std::thread::sleep(std::time::Duration::from_millis(arg(4).parse().unwrap()));
            VALUE.store(arg(3).parse().unwrap(), Ordering::SeqCst);
            pip_core::named_export(&arg(2), &VALUE as *const AtomicU64 as *mut AtomicU64).unwrap();
            0
        }
        "self_import" => match pip_core::named_import::<u8>(PipId::Task(me()), "nothing") {
            Err(pip_core::Error::Deadlock(_)) => 0,
            other => {
                eprintln!("self import gave {other:?}");
                1
            }
        },
        "barrier" => {
            // barrier <rounds>: a shared counter (the root's, through aux) stays in lock step.
            let rounds: usize = arg(2).parse().unwrap();
            let counter = pip_core::aux().unwrap() as *const AtomicUsize;
            // SAFETY: the test passes a counter that outlives the tasks.
            let counter = unsafe { &*counter };
            let n = pip_core::ntasks().unwrap();
            let b = barrier();
            for r in 0..rounds {
                counter.fetch_add(1, Ordering::SeqCst);
                b.wait();
                let c = counter.load(Ordering::SeqCst);
                if c != (r + 1) * n {
                    eprintln!("round {r}: counter {c}, expected {}", (r + 1) * n);
                    return 1;
                }
                b.wait();
            }
            0
        }
        // env NAME VALUE [std]: the task's environment (with `std`: as its libc's environ).
        "env" => match if arg(4) == "std" {
            std::env::var(arg(2)).ok()
        } else {
            pip_core::env_var(&arg(2))
        } {
            Some(v) if v == arg(3) => 0,
            other => {
                eprintln!("env {} = {other:?}", arg(2));
                1
            }
        },
        // show_bytes VAR ARGS...: prints the task's arguments after VAR, and VAR's value, as
        // hex bytes (they need not be UTF-8).
        "show_bytes" => {
            use std::os::unix::ffi::OsStrExt;
            let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
            for (i, a) in pip_core::args_os().iter().enumerate().skip(3) {
                println!("arg[{i}]={}", hex(a.as_bytes()));
            }
            match pip_core::env_var_os(arg(2)) {
                Some(v) => println!("{}={}", arg(2), hex(v.as_bytes())),
                None => println!("{} unset", arg(2)),
            }
            0
        }
        // image_header: says whether this task's image kept the section headers
        // (PIP_FULL_IMAGE) or was cut to what the loader maps.
        "image_header" => {
            // SAFETY: dladdr on one of this image's functions fills `info`; the ELF header
            // is mapped at the image's base, and e_shoff is its u64 at offset 0x28.
            let shoff = unsafe {
                let mut info: libc::Dl_info = std::mem::zeroed();
                if libc::dladdr(run as *const libc::c_void, &mut info) == 0 {
                    return 2;
                }
                std::ptr::read_unaligned((info.dli_fbase as *const u8).add(0x28) as *const u64)
            };
            println!("{}", if shoff == 0 { "cut" } else { "full" });
            0
        }
        "cwd" => {
            let cwd = std::env::current_dir().unwrap();
            if cwd == std::path::Path::new(&arg(2)) {
                0
            } else {
                eprintln!("cwd is {}", cwd.display());
                1
            }
        }
        "exit_with_guard" => {
            // exit(6) with a guard on the stack whose destructor bumps the aux counter.
            struct Guard(&'static AtomicUsize);
            impl Drop for Guard {
                fn drop(&mut self) {
                    self.0.fetch_add(1, Ordering::SeqCst);
                }
            }
            // SAFETY: the test passes a counter that outlives the task.
            let _g = Guard(unsafe { &*(pip_core::aux().unwrap() as *const AtomicUsize) });
            std::process::exit(6)
        }
        "ids" => {
            // Writes [pid, ppid, gettid, pthread_self] into the aux array (4 x u64).
            let out = pip_core::aux().unwrap() as *mut u64;
            // SAFETY: the test passes a 4-element array that outlives the task.
            unsafe {
                *out = libc::getpid() as u64;
                *out.add(1) = libc::getppid() as u64;
                *out.add(2) = libc::syscall(libc::SYS_gettid) as u64;
                *out.add(3) = libc::pthread_self() as u64;
            }
            0
        }
        "open_fd" => {
            // Opens /dev/null and leaves the fd number in the aux AtomicI32.
            // SAFETY: opening a file read-only.
            let fd = unsafe { libc::open(c"/dev/null".as_ptr(), libc::O_RDONLY) };
            // SAFETY: the test passes an AtomicI32 that outlives the task.
            unsafe { &*(pip_core::aux().unwrap() as *const std::sync::atomic::AtomicI32) }
                .store(fd, Ordering::SeqCst);
            0
        }
        "wait_usr1" => {
            // Installs its own SIGUSR1 handler, says so through aux, and returns 0 once the
            // signal arrived (exit code 1 after 20 s without it).
            static GOT: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
            extern "C" fn on_usr1(_: i32) {
                GOT.store(true, Ordering::SeqCst);
            }
            // SAFETY: installing a handler that only stores to an atomic.
            unsafe { libc::signal(libc::SIGUSR1, on_usr1 as *const () as libc::sighandler_t) };
            // SAFETY: the test passes an AtomicI32 that outlives the task.
            unsafe { &*(pip_core::aux().unwrap() as *const std::sync::atomic::AtomicI32) }
                .store(1, Ordering::SeqCst);
            for _ in 0..2000 {
                if GOT.load(Ordering::SeqCst) {
                    return 0;
                }
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            1
        }
        "fork" => {
            // fork(); the child exits 7; the task returns the child's exit code.
            // SAFETY: the child only calls _exit.
            let pid = unsafe { libc::fork() };
            if pid == 0 {
                // SAFETY: ends the forked child at once.
                unsafe { libc::_exit(7) };
            }
            let mut st = 0;
            // SAFETY: waiting for our own child.
            unsafe { libc::waitpid(pid, &mut st, 0) };
            libc::WEXITSTATUS(st)
        }
        "give_box" => {
            // Exports a heap block that another task frees (cross-task free, shared-libc).
            let b = Box::new([7u8; 4096]);
            pip_core::named_export("box", Box::into_raw(b)).unwrap();
            barrier().wait();
            0
        }
        "take_box" => {
            let p: *mut [u8; 4096] = pip_core::named_import(PipId::Task(0), "box").unwrap();
            // SAFETY: task 0 gave up the block; one libc malloc serves every task.
            let b = unsafe { Box::from_raw(p) };
            let ok = b.iter().all(|&x| x == 7);
            drop(b);
            barrier().wait();
            if ok {
                0
            } else {
                1
            }
        }
        "getcpu" => {
            // Moves itself to each allowed CPU in turn; glibc's sched_getcpu (read from the rseq
            // area) must agree with the getcpu system call on each.
            // SAFETY: cpu_set_t is a plain bit set, valid all-zero.
            let mut allowed: libc::cpu_set_t = unsafe { std::mem::zeroed() };
            // SAFETY: the calling thread's affinity, written into a set of the size passed.
            unsafe {
                libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut allowed)
            };
            // SAFETY: CPU_ISSET reads a bit of a valid set, `c` below CPU_SETSIZE.
            let allowed_cpu = |c: usize| unsafe { libc::CPU_ISSET(c, &allowed) };
            for cpu in (0..libc::CPU_SETSIZE as usize).filter(|&c| allowed_cpu(c)) {
                // SAFETY: as above, a zeroed set.
                let mut one: libc::cpu_set_t = unsafe { std::mem::zeroed() };
                // SAFETY: `cpu` is below CPU_SETSIZE.
                unsafe { libc::CPU_SET(cpu, &mut one) };
                // SAFETY: the calling thread's affinity, from a valid set of the size passed.
                unsafe { libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &one) };
                std::thread::yield_now();
                let mut now: u32 = 0;
                // SAFETY: getcpu writes the CPU number; the other arguments may be null.
                unsafe {
                    libc::syscall(
                        libc::SYS_getcpu,
                        &mut now,
                        std::ptr::null_mut::<u32>(),
                        std::ptr::null_mut::<u8>(),
                    )
                };
                // SAFETY: no preconditions.
                let glibc = unsafe { libc::sched_getcpu() };
                if now as usize != cpu || glibc != cpu as i32 {
                    eprintln!("pinned to CPU {cpu}: getcpu says {now}, sched_getcpu says {glibc}");
                    return 1;
                }
            }
            0
        }
        "malloc_loop" => {
            // Allocates and frees without end (to be killed in the middle of malloc).
            let mut keep: Vec<Vec<u8>> = Vec::new();
            let mut n: usize = 1;
            loop {
                n = n
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                keep.push(vec![0u8; 16 + (n >> 40) % 4000]);
                if keep.len() > 64 {
                    keep.swap_remove((n >> 20) % keep.len());
                }
            }
        }
        "print" => {
            print!("unterminated output from task {}", me());
            0
        }
        // A healthy all-to-all for `pips waits` to sample: argv[2] rounds of a pairwise
        // exchange with every other rank (large enough for rendezvous sends), then a
        // collective all-to-all.
        "alltoall" => {
            let world = pip_rs::pip_comm::world().expect("world");
            let (me, n) = (world.rank(), world.size());
            let rounds: usize = arg(2).parse().unwrap_or(1000);
            let out = vec![me as f64; 8192];
            let mut inb = vec![0.0f64; 8192];
            let send: Vec<u64> = (0..n as u64).collect();
            let mut recv = vec![0u64; n as usize];
            for round in 0..rounds {
                for k in 1..n {
                    let (to, from) = ((me + k) % n, (me + n - k) % n);
                    let tag = (round % 1000) as i32;
                    let (dest, source) = (world.process_at_rank(to), world.process_at_rank(from));
                    pip_rs::pip_comm::send_receive_into_with_tags(
                        &out[..],
                        &dest,
                        tag,
                        &mut inb[..],
                        &source,
                        tag,
                    )
                    .expect("send_receive_into_with_tags");
                    assert_eq!(inb[0], from as f64);
                }
                world
                    .all_to_all_into(&send[..], &mut recv[..])
                    .expect("alltoall");
            }
            0
        }
        // Deliberate deadlocks for `pips waits` (run with -n 2).
        // argv[2]: `sleeper` (rank 1 sleeps instead: no deadlock), `quitter` (rank 1 ends).
        "recv_deadlock" => {
            let world = pip_rs::pip_comm::world().expect("world");
            let other = 1 - world.rank();
            if world.rank() == 1 && arg(2) == "sleeper" {
                loop {
                    std::thread::sleep(std::time::Duration::from_secs(1));
                }
            }
            if world.rank() == 1 && arg(2) == "quitter" {
                return 0;
            }
            eprintln!("task {} receives from {other}", me());
            let mut v = [0u64; 1];
            world
                .process_at_rank(other)
                .receive_into_with_tag(&mut v[..], 7)
                .expect("receive");
            v[0] as i32
        }
        // Ranks 0 and 1 enter the barrier; rank 2 waits for a message from rank 0 first.
        "barrier_vs_recv" => {
            let world = pip_rs::pip_comm::world().expect("world");
            if world.rank() == 2 {
                let mut v = [0u64; 1];
                world
                    .process_at_rank(0)
                    .receive_into_with_tag(&mut v[..], 7)
                    .expect("receive");
            }
            world.barrier().unwrap();
            0
        }
        "import_cycle" => {
            let other = 1 - me();
            let _: *mut u8 = pip_core::named_import(PipId::Task(other), &format!("never-{other}"))
                .expect("import");
            0
        }
        "abba" => abba(),
        "pipe_self" => {
            let mut fds = [0; 2];
            // SAFETY: pipe writes two fds into the array.
            assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
            let mut b = [0u8; 1];
            // SAFETY: reads into a live one-byte buffer; blocks for ever, since this task
            // holds the only write end.
            unsafe { libc::read(fds[0], b.as_mut_ptr().cast(), 1) as i32 }
        }
        // chdir <start> <to>: checks that the task starts in <start>, then moves to <to>.
        "chdir" => {
            let start = std::env::current_dir().unwrap();
            if start != std::path::Path::new(&arg(2)) {
                eprintln!("started in {}", start.display());
                return 1;
            }
            if std::env::set_current_dir(arg(3)).is_err()
                || std::env::current_dir().unwrap() != std::path::Path::new(&arg(3))
            {
                return 2;
            }
            0
        }
        // Exit code 1 if SIGUSR2 is blocked on entry, 0 if not.
        "usr2_blocked" => i32::from(usr2_blocked()),
        // Blocks SIGUSR2, says so through aux (an AtomicI32 set to 1), and returns 0 once a
        // SIGUSR2 is pending (1 after 20 s without one).
        "block_usr2" => {
            // SAFETY: sigset set-up and sigprocmask on the task's own (only) thread.
            unsafe {
                let mut set: libc::sigset_t = std::mem::zeroed();
                libc::sigemptyset(&mut set);
                libc::sigaddset(&mut set, libc::SIGUSR2);
                libc::sigprocmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
            }
            if !usr2_blocked() {
                return 3;
            }
            // SAFETY: the test passes an AtomicI32 that outlives the task.
            unsafe { &*(pip_core::aux().unwrap() as *const std::sync::atomic::AtomicI32) }
                .store(1, Ordering::SeqCst);
            for _ in 0..2000 {
                // SAFETY: sigpending writes the pending set.
                let pending = unsafe {
                    let mut set: libc::sigset_t = std::mem::zeroed();
                    libc::sigpending(&mut set);
                    libc::sigismember(&set, libc::SIGUSR2) == 1
                };
                if pending {
                    return 0;
                }
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            1
        }
        // cloexec_fds <fd> <plain fd> <path>: 0 if <fd> is closed and <plain fd> is open on
        // <path>; 1 if <fd> is open, 2 if <plain fd> is not open on <path>.
        "cloexec_fds" => {
            let (fd, plain): (i32, i32) = (arg(2).parse().unwrap(), arg(3).parse().unwrap());
            // SAFETY: F_GETFD on a descriptor number, open or not.
            let (r, e) = unsafe {
                (
                    libc::fcntl(fd, libc::F_GETFD),
                    std::io::Error::last_os_error().raw_os_error(),
                )
            };
            if r != -1 || e != Some(libc::EBADF) {
                eprintln!("close-on-exec fd {fd}: F_GETFD gave {r} ({e:?})");
                return 1;
            }
            let link = std::fs::read_link(format!("/proc/self/fd/{plain}"));
            if link.as_deref().ok() != Some(std::path::Path::new(&arg(4))) {
                eprintln!("fd {plain} is {link:?}");
                return 2;
            }
            0
        }
        // fd_owner <path>: opens <path>, exports the fd number as "fd" and waits at the root's
        // barrier (while its peer looks) with the file still open.
        "fd_owner" => {
            static FD: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(-1);
            let path = std::ffi::CString::new(arg(2)).unwrap();
            // SAFETY: opening a file read-only with a valid C string.
            let fd = unsafe { libc::open(path.as_ptr(), libc::O_RDONLY) };
            if fd < 0 {
                return 1;
            }
            FD.store(fd, Ordering::SeqCst);
            let addr =
                &FD as *const std::sync::atomic::AtomicI32 as *mut std::sync::atomic::AtomicI32;
            pip_core::named_export("fd", addr).unwrap();
            barrier().wait();
            // SAFETY: closing our own descriptor.
            unsafe { libc::close(fd) };
            0
        }
        // fd_peer <owner pipid> <path>: imports the owner's fd number; 0 if that number is not
        // open on <path> in this task's table, 1 if it is.
        "fd_peer" => {
            let from: usize = arg(2).parse().unwrap();
            let fd: *mut std::sync::atomic::AtomicI32 =
                pip_core::named_import(PipId::Task(from), "fd").unwrap();
            // SAFETY: the owner's static lives as long as its image: forever.
            let fd = unsafe { &*fd }.load(Ordering::SeqCst);
            let link = std::fs::read_link(format!("/proc/self/fd/{fd}"));
            let seen = link.as_deref().ok() == Some(std::path::Path::new(&arg(3)));
            barrier().wait();
            if seen {
                eprintln!("task {} sees task {from}'s fd {fd}", me());
                1
            } else {
                0
            }
        }
        // A thread of the task faults (SIGSEGV); 3 if the task survives that.
        "thread_segv" => {
            let _ = std::thread::spawn(segfault).join();
            3
        }
        // Kernel-raised faults: SIGBUS (a read past the end of a mapped empty file), SIGFPE
        // (integer division by zero), SIGILL (an undefined instruction). 3 if the task survives,
        // 4 where this architecture has no such fault.
        "sigbus" => {
            // SAFETY: an empty memfd mapped for one page; reading it faults with SIGBUS.
            unsafe {
                let fd = libc::memfd_create(c"pip-rs-sigbus".as_ptr(), 0);
                let p = libc::mmap(
                    std::ptr::null_mut(),
                    4096,
                    libc::PROT_READ,
                    libc::MAP_SHARED,
                    fd,
                    0,
                );
                if fd < 0 || p == libc::MAP_FAILED {
                    return 2;
                }
                std::ptr::read_volatile(p as *const u8);
            }
            3
        }
        "sigfpe" => {
            #[cfg(target_arch = "x86_64")]
            {
                let q: u64;
                // SAFETY: not safe at all: divides by zero to raise SIGFPE.
                unsafe {
                    std::arch::asm!(
                        "div {d}",
                        d = in(reg) std::hint::black_box(0u64),
                        inout("rax") 1u64 => q,
                        inout("rdx") 0u64 => _,
                    )
                };
                std::hint::black_box(q);
                3
            }
            #[cfg(not(target_arch = "x86_64"))]
            4
        }
        "sigill" => {
            // SAFETY: not safe at all: an undefined instruction, to raise SIGILL.
            #[cfg(target_arch = "x86_64")]
            unsafe {
                std::arch::asm!("ud2")
            };
            #[cfg(target_arch = "aarch64")]
            unsafe {
                std::arch::asm!("udf #0")
            };
            3
        }
        // stack <KiB>: leaves the size pthread_getattr_np reports for this thread's stack in
        // the aux AtomicU64 (if any) and prints it, then recurses through <KiB> of stack.
        "stack" => {
            // SAFETY: pthread_getattr_np fills an attribute object for the calling thread,
            // destroyed after use.
            let size = unsafe {
                let mut attr: libc::pthread_attr_t = std::mem::zeroed();
                if libc::pthread_getattr_np(libc::pthread_self(), &mut attr) != 0 {
                    return 2;
                }
                let (mut addr, mut size) = (std::ptr::null_mut(), 0usize);
                libc::pthread_attr_getstack(&attr, &mut addr, &mut size);
                libc::pthread_attr_destroy(&mut attr);
                size
            };
            println!("stack size {size}");
            let out = pip_core::aux().unwrap() as *const AtomicU64;
            if !out.is_null() {
                // SAFETY: the test passes an AtomicU64 that outlives the task.
                unsafe { &*out }.store(size as u64, Ordering::SeqCst);
            }
            let kib: usize = arg(2).parse().unwrap();
            std::hint::black_box(recurse(kib / 16));
            0
        }
        // try_import <pipid> <name>: a first try_named_import must find nothing; then exports
        // "asked" and tries again until the name is there; returns its value.
        "try_import" => {
            static ASKED: AtomicU64 = AtomicU64::new(1);
            let from = PipId::Task(arg(2).parse().unwrap());
            match pip_core::try_named_import::<AtomicU64>(from, &arg(3)) {
                Err(pip_core::Error::NotYetExported { .. }) => {}
                other => {
                    eprintln!("first try_named_import gave {other:?}");
                    return 1;
                }
            }
            pip_core::named_export("asked", &ASKED as *const AtomicU64 as *mut AtomicU64).unwrap();
            for _ in 0..20_000 {
                match pip_core::try_named_import::<AtomicU64>(from, &arg(3)) {
                    // SAFETY: the exporter's static lives forever.
                    Ok(p) => return unsafe { &*p }.load(Ordering::SeqCst) as i32,
                    Err(pip_core::Error::NotYetExported { .. }) => {
                        std::thread::sleep(std::time::Duration::from_millis(1))
                    }
                    Err(e) => {
                        eprintln!("try_named_import gave {e}");
                        return 100 + e.errno();
                    }
                }
            }
            2
        }
        // export_when_asked <pipid> <name> <value>: waits for <pipid>'s "asked", then exports
        // <value> as <name>.
        "export_when_asked" => {
            let _: *mut AtomicU64 =
                pip_core::named_import(PipId::Task(arg(2).parse().unwrap()), "asked").unwrap();
            VALUE.store(arg(4).parse().unwrap(), Ordering::SeqCst);
            pip_core::named_export(&arg(3), &VALUE as *const AtomicU64 as *mut AtomicU64).unwrap();
            0
        }
        // orphan_sleep <secs>: clears the parent-death signal (so that only an explicit kill
        // ends this process-mode task), says so through aux (an AtomicI32 set to 1), and sleeps
        // for <secs> seconds.
        "orphan_sleep" => {
            // SAFETY: prctl(PR_SET_PDEATHSIG, 0) only clears a per-process value.
            unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, 0) };
            // SAFETY: the test passes an AtomicI32 that outlives the task.
            unsafe { &*(pip_core::aux().unwrap() as *const std::sync::atomic::AtomicI32) }
                .store(1, Ordering::SeqCst);
            std::thread::sleep(std::time::Duration::from_secs(arg(2).parse().unwrap()));
            0
        }
        // The task replaces its program with `sh -c "exit argv[2]"` (execv).
        "exec_sh" => {
            let code = std::ffi::CString::new(format!("exit {}", arg(2))).unwrap();
            let argv = [
                c"sh".as_ptr(),
                c"-c".as_ptr(),
                code.as_ptr(),
                std::ptr::null(),
            ];
            // SAFETY: a NULL-terminated argv of valid C strings that outlive the call.
            unsafe { libc::execv(c"/bin/sh".as_ptr(), argv.as_ptr()) };
            127
        }
        // A thread of the task (not the task itself) calls exit(argv[2]).
        "thread_exit" => {
            let code: i32 = arg(2).parse().unwrap_or(9);
            let t = std::thread::spawn(move || std::process::exit(code));
            let _ = t.join();
            0
        }
        // atexit return|exit N: registers two handlers with libc's `atexit`, which print
        // `rust atexit K id=PID/TID` when they run, then returns N or calls exit(N).
        "atexit" => {
            // SAFETY: registering plain `extern "C" fn()` handlers.
            unsafe {
                libc::atexit(rust_atexit_1);
                libc::atexit(rust_atexit_2);
            }
            let code = arg(3).parse().unwrap_or(0);
            if arg(2) == "exit" {
                std::process::exit(code)
            }
            code
        }
        // fork_child exit N | segv: forks; the child calls exit(N) (through the interposed
        // `exit`, as any code of the task would) or faults. Returns the child's exit code, or
        // 128 + the signal that ended it.
        "fork_child" => fork_child(&arg(2), arg(3).parse().unwrap_or(0)),
        // fork_sleeper FILE [return]: forks a child that forks a grandchild and exits; the
        // grandchild, its stdio on /dev/null, writes its pid to FILE and sleeps (120 s at most).
        // The task then sleeps until killed, or with `return` returns 0 once FILE exists.
        "fork_sleeper" => {
            fork_sleeper(&arg(2));
            for _ in 0..6000 {
                if arg(3) == "return" && std::path::Path::new(&arg(2)).exists() {
                    return 0;
                }
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            loop {
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
        }
        other => {
            eprintln!("test_tasks: unknown behaviour {other:?}");
            2
        }
    }
}

/// `fork_child`: see its behaviour above.
fn fork_child(what: &str, code: i32) -> i32 {
    let segv = what == "segv";
    // SAFETY: the child only exits or faults.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        if segv {
            segfault();
        }
        std::process::exit(code);
    }
    // Bounded wait: the child must end at once.
    let mut st = 0;
    for _ in 0..3000 {
        // SAFETY: waiting for our own child.
        if unsafe { libc::waitpid(pid, &mut st, libc::WNOHANG) } == pid {
            return if libc::WIFSIGNALED(st) {
                128 + libc::WTERMSIG(st)
            } else {
                libc::WEXITSTATUS(st)
            };
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    // SAFETY: kill and reap our own child, which did not end.
    unsafe {
        libc::kill(pid, libc::SIGKILL);
        libc::waitpid(pid, &mut st, 0);
    }
    99
}

/// `fork_sleeper`: see its behaviour above. Between fork and exit only async-signal-safe calls.
fn fork_sleeper(file: &str) {
    let path = std::ffi::CString::new(file).unwrap();
    let tmp = std::ffi::CString::new(format!("{file}.tmp")).unwrap();
    // SAFETY: the children make only async-signal-safe calls on buffers made before the fork.
    unsafe {
        let child = libc::fork();
        if child != 0 {
            let mut st = 0;
            libc::waitpid(child, &mut st, 0);
            return;
        }
        if libc::fork() == 0 {
            // Let go of the job's stdio, as a daemon does: a reader of pip-exec's output must
            // not wait for this process.
            let null = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR);
            for fd in 0..3 {
                libc::dup2(null, fd);
            }
            let mut digits = [0u8; 16];
            let mut n = libc::getpid() as u32;
            let mut at = digits.len();
            loop {
                at -= 1;
                digits[at] = b'0' + (n % 10) as u8;
                n /= 10;
                if n == 0 {
                    break;
                }
            }
            let fd = libc::open(
                tmp.as_ptr(),
                libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC,
                0o644,
            );
            libc::write(fd, digits[at..].as_ptr().cast(), digits.len() - at);
            libc::close(fd);
            libc::rename(tmp.as_ptr(), path.as_ptr());
            libc::sleep(120);
        }
        libc::_exit(0);
    }
}

/// True if SIGUSR2 is blocked on the calling thread.
/// Writes `rust atexit K id=PID/TID` in one `write(2)` (stdio may already be flushed).
fn say_atexit(k: u32) {
    // SAFETY: getpid and gettid cannot fail.
    let (pid, tid) = unsafe { (libc::getpid(), libc::syscall(libc::SYS_gettid)) };
    let line = format!("rust atexit {k} id={pid}/{tid}\n");
    // SAFETY: writes our own buffer to standard output.
    unsafe { libc::write(1, line.as_ptr().cast(), line.len()) };
}

extern "C" fn rust_atexit_1() {
    say_atexit(1);
}

extern "C" fn rust_atexit_2() {
    say_atexit(2);
}

fn usr2_blocked() -> bool {
    // SAFETY: pthread_sigmask with a null new set only reads the mask.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::pthread_sigmask(libc::SIG_BLOCK, std::ptr::null(), &mut set);
        libc::sigismember(&set, libc::SIGUSR2) == 1
    }
}

/// Recurses `n` levels deep with 16 KiB of locals per level.
#[inline(never)]
fn recurse(n: usize) -> u64 {
    let mut buf = [0u8; 16 << 10];
    buf[n % buf.len()] = n as u8;
    std::hint::black_box(&mut buf);
    if n == 0 {
        return buf[0] as u64;
    }
    recurse(n - 1) + std::hint::black_box(&buf)[n % 64] as u64
}

/// Two pthread mutexes and a barrier, shared by task 0 (which makes them) and task 1.
struct Abba {
    a: std::cell::UnsafeCell<libc::pthread_mutex_t>,
    b: std::cell::UnsafeCell<libc::pthread_mutex_t>,
    meet: Barrier,
}

/// Task 0 locks A then B, task 1 locks B then A, after both hold their first: a deadlock.
fn abba() -> i32 {
    let shared: &'static Abba = if me() == 0 {
        let s = Box::leak(Box::new(Abba {
            a: std::cell::UnsafeCell::new(libc::PTHREAD_MUTEX_INITIALIZER),
            b: std::cell::UnsafeCell::new(libc::PTHREAD_MUTEX_INITIALIZER),
            meet: Barrier::new(2),
        }));
        pip_core::named_export("abba", s as *mut Abba).expect("export");
        s
    } else {
        let p: *mut Abba = pip_core::named_import(PipId::Task(0), "abba").expect("import");
        // SAFETY: task 0 leaked this struct and exported it; it lives as long as the process.
        unsafe { &*p }
    };
    let (first, second) = if me() == 0 {
        (&shared.a, &shared.b)
    } else {
        (&shared.b, &shared.a)
    };
    // SAFETY: the mutexes are initialised and never moved (leaked); a deadlock is the point.
    unsafe {
        libc::pthread_mutex_lock(first.get());
        shared.meet.wait();
        libc::pthread_mutex_lock(second.get());
        libc::pthread_mutex_unlock(second.get());
        libc::pthread_mutex_unlock(first.get());
    }
    0
}

pip_rs::task_main!(run);

fn add_one(arg: *mut std::ffi::c_void) -> i32 {
    arg as usize as i32 + 1
}
pip_rs::pip_core::task_function!(add_one_fn, add_one);

/// An error with a source, as a task's failure (tests/task_entry.rs).
#[derive(Debug)]
struct ConfigError {
    file: &'static str,
    source: std::io::Error,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "cannot read the settings file {}", self.file)
    }
}

impl std::error::Error for ConfigError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

fn config_error() -> ConfigError {
    ConfigError {
        file: "ranks.toml",
        source: std::io::Error::new(std::io::ErrorKind::NotFound, "the disk is not mounted"),
    }
}

fn fail_with_source(_: *mut std::ffi::c_void) -> Result<(), ConfigError> {
    Err(config_error())
}
pip_rs::pip_core::task_function!(fail_with_source_fn, fail_with_source);

fn fail_boxed(_: *mut std::ffi::c_void) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    Err(Box::new(config_error()))
}
pip_rs::pip_core::task_function!(fail_boxed_fn, fail_boxed);

fn fail_with_pip_error(_: *mut std::ffi::c_void) -> pip_core::Result<()> {
    // No such task: pip-core's own error, shown by its Display text.
    pip_core::named_import::<u8>(PipId::Task(usize::MAX), "nothing").map(|_| ())
}
pip_rs::pip_core::task_function!(fail_with_pip_error_fn, fail_with_pip_error);

fn fail_with_text(_: *mut std::ffi::c_void) -> Result<(), String> {
    Err("no work for this rank".to_string())
}
pip_rs::pip_core::task_function!(fail_with_text_fn, fail_with_text);

/// A static of this library's copy (see `pip_rs_test_library_view`).
static LIBRARY_STATIC: AtomicU64 = AtomicU64::new(0);

/// For a C task that loads this file as an ordinary shared library (`dlopen`; no root attaches
/// that copy, as with a C MPI library): what this copy of pip-core and pip-comm make of the
/// calling thread, as one line written into `buf` (`len` bytes, NUL-terminated). Every task of
/// the job must call it (it makes a pip-comm world). See tests/library_copy.rs.
///
/// # Safety
///
/// `buf` is valid for writes of `len` bytes, `len > 0`.
#[no_mangle]
pub unsafe extern "C" fn pip_rs_test_library_view(buf: *mut u8, len: usize) {
    let line = library_view();
    let n = line.len().min(len - 1);
    // SAFETY: the caller gives `len > n` writable bytes.
    unsafe {
        std::ptr::copy_nonoverlapping(line.as_ptr(), buf, n);
        *buf.add(n) = 0;
    }
}

fn library_view() -> String {
    let pipid = match pip_core::pipid() {
        Ok(p) => p,
        Err(e) => return format!("error: {e}"),
    };
    let (ntasks, isolation, mode) = (
        pip_core::ntasks().unwrap(),
        pip_core::isolation().unwrap(),
        pip_core::mode().unwrap(),
    );
    // One copy of this library for the whole job, or one per task? Each task exports the
    // static it sees and compares it with its neighbour's.
    let PipId::Task(me) = pipid else {
        return format!("pipid={pipid:?}");
    };
    let mine = &LIBRARY_STATIC as *const AtomicU64 as *mut AtomicU64;
    pip_core::named_export("library-static", mine).unwrap();
    let next = PipId::Task((me + 1) % ntasks);
    let theirs: *mut AtomicU64 = pip_core::named_import(next, "library-static").unwrap();
    let statics = if theirs == mine { "shared" } else { "private" };
    let world = pip_rs::pip_comm::world().unwrap();
    let second = matches!(
        pip_rs::pip_comm::world(),
        Err(pip_rs::pip_comm::Error::AlreadyInitialized)
    );
    let mut sum = 0u64;
    world
        .all_reduce_into(&(world.rank() as u64), &mut sum, SystemOperation::sum())
        .unwrap();
    format!(
        "pipid={pipid:?} ntasks={ntasks} isolation={isolation:?} mode={mode:?} statics={statics} \
         rank={} size={} sum={sum} second_world_refused={second}",
        world.rank(),
        world.size()
    )
}
