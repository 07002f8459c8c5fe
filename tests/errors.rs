//! Every bad input to the root gets its own clear error.
// This test binary is a root that kills tasks: kills wait for the end of an allocator call.
pip_rs::pip_core::guard_allocator!();

mod common;
use common::*;
use pip_core::{elf::TaskFileError, Error, ExitStatus, Root, Spawn};

fn spawn_error(path: &std::path::Path) -> Error {
    let _g = root_lock();
    let mut root = Root::init(1).unwrap();
    let e = root.spawn(Spawn::program(path)).unwrap_err();
    root.fin().unwrap();
    e
}

fn reason(e: Error) -> TaskFileError {
    match e {
        Error::TaskFile(r) => r.reason,
        other => panic!("expected a task-file error, got {other:?}"),
    }
}

#[test]
fn missing_file() {
    let e = spawn_error("/nonexistent/libnothing.so".as_ref());
    assert!(
        e.to_string()
            .contains("/nonexistent/libnothing.so: no such file"),
        "{e}"
    );
    assert!(matches!(reason(e), TaskFileError::Missing));
}

#[test]
fn non_elf_file() {
    let dir = std::env::temp_dir().join(format!("pip-rs-errors-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("script.sh");
    std::fs::write(&f, "#!/bin/sh\necho hi\n").unwrap();
    let e = spawn_error(&f);
    assert!(e.to_string().contains("not an ELF file"), "{e}");
}

#[test]
fn rust_executable_is_refused_and_told_to_be_a_cdylib() {
    let e = spawn_error(&std::env::current_exe().unwrap());
    let msg = e.to_string();
    assert!(
        msg.contains("local-exec") && msg.contains("cdylib"),
        "{msg}"
    );
}

#[test]
fn missing_entry_function() {
    let _g = root_lock();
    let mut root = Root::init(1).unwrap();
    let e = root
        .spawn(Spawn::function(
            test_tasks(),
            "no_such_function",
            std::ptr::null_mut(),
        ))
        .unwrap_err();
    assert!(
        e.to_string().contains("`no_such_function` is not defined"),
        "{e}"
    );
    root.fin().unwrap();
}

#[test]
fn init_arguments() {
    let _g = root_lock();
    assert!(matches!(
        Root::init(0),
        Err(Error::InvalidTaskCount { requested: 0, .. })
    ));
    assert!(matches!(
        Root::init(pip_core::MAX_TASKS + 1),
        Err(Error::InvalidTaskCount { .. })
    ));
    let mut root = Root::init(1).unwrap();
    assert!(matches!(Root::init(1), Err(Error::AlreadyInitialized)));
    root.fin().unwrap();
}

#[test]
fn pipids_are_checked_and_never_reused() {
    let _g = root_lock();
    let mut root = Root::init(2).unwrap();
    assert!(matches!(
        root.wait(5),
        Err(Error::InvalidPipid {
            pipid: 5,
            ntasks: 2
        })
    ));
    assert!(matches!(root.wait(0), Err(Error::NoSuchTask(0))));
    assert!(matches!(
        root.spawn(Spawn::program(test_tasks()).pipid(9)),
        Err(Error::InvalidPipid { .. })
    ));
    let p = root
        .spawn(Spawn::program(test_tasks()).args(["exit", "0"]).pipid(1))
        .unwrap();
    assert_eq!(p, 1);
    assert!(matches!(
        root.spawn(Spawn::program(test_tasks()).pipid(1)),
        Err(Error::PipidInUse(1))
    ));
    // fin refuses while a task has not been waited for.
    std::thread::sleep(std::time::Duration::from_millis(10));
    assert!(matches!(root.fin(), Err(Error::TasksAlive(1))));
    assert_eq!(root.wait(1).unwrap(), ExitStatus::Exited(0));
    assert!(matches!(root.wait(1), Err(Error::NoSuchTask(1))));
    let q = root
        .spawn(Spawn::program(test_tasks()).args(["exit", "0"]))
        .unwrap();
    assert_eq!(q, 0);
    assert_eq!(root.wait(q).unwrap(), ExitStatus::Exited(0));
    // Both pipids used: a third spawn is one too many.
    let e = root.spawn(Spawn::program(test_tasks())).unwrap_err();
    assert!(matches!(e, Error::TooManyTasks { ntasks: 2 }), "{e}");
    assert!(matches!(root.try_wait_any(), Err(Error::NoTasks)));
    root.fin().unwrap();
}

#[test]
fn setup_failure_is_reported_by_spawn() {
    let _g = root_lock();
    let mut root = Root::init(1).unwrap();
    let e = root
        .spawn(
            Spawn::program(test_tasks())
                .args(["exit", "0"])
                .cwd("/nonexistent-dir"),
        )
        .unwrap_err();
    // The error names the step that failed.
    assert!(
        e.to_string()
            .contains("changing to the task's working directory"),
        "{e}"
    );
    root.fin().unwrap();
}

#[test]
fn queries_outside_a_job() {
    let _g = root_lock();
    assert!(matches!(pip_core::pipid(), Err(Error::NotInitialized)));
    assert!(!pip_core::is_task());
    let mut root = Root::init(1).unwrap();
    assert_eq!(pip_core::pipid().unwrap(), pip_core::PipId::Root);
    assert!(pip_core::is_root());
    assert_eq!(pip_core::ntasks().unwrap(), 1);
    root.fin().unwrap();
}

#[test]
fn unreadable_file() {
    let dir = std::env::temp_dir().join(format!("pip-rs-errors-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // A directory exists but is not a file (whoever runs the test).
    let e = spawn_error(&dir);
    assert!(e.to_string().contains("not a regular file"), "{e}");
    assert!(matches!(reason(e), TaskFileError::NotRegularFile(_)));
    // A copy of a real task with mode 000.
    let f = dir.join("libmode000.so");
    std::fs::copy(test_tasks(), &f).unwrap();
    std::fs::set_permissions(&f, std::os::unix::fs::PermissionsExt::from_mode(0o0)).unwrap();
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        eprintln!("unreadable_file: running as root, which reads mode-000 files: that case is not checked");
    } else {
        let e = spawn_error(&f);
        assert!(e.to_string().contains("cannot read the file"), "{e}");
        assert!(matches!(reason(e), TaskFileError::Unreadable(_)));
    }
    let _ = std::fs::remove_file(&f);
}

#[test]
fn task_file_for_another_architecture() {
    let dir = std::env::temp_dir().join(format!("pip-rs-errors-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("libother_arch.so");
    let mut elf = std::fs::read(test_tasks()).unwrap();
    // e_machine (offset 18): EM_AARCH64 (183) on x86-64, EM_X86_64 (62) elsewhere.
    let other: u16 = if cfg!(target_arch = "x86_64") {
        183
    } else {
        62
    };
    elf[18..20].copy_from_slice(&other.to_le_bytes());
    std::fs::write(&f, elf).unwrap();
    let e = spawn_error(&f);
    let msg = e.to_string();
    let _ = std::fs::remove_file(&f);
    let name = if other == 183 { "AArch64" } else { "x86-64" };
    assert!(
        msg.contains("another architecture")
            && msg.contains(&format!("{name}, ELF machine {other}")),
        "{msg}"
    );
    assert!(matches!(
        reason(e),
        TaskFileError::WrongArchitecture { found, .. } if found == other
    ));
}

#[test]
fn task_file_on_a_noexec_mount_is_refused() {
    // glibc's dlopen refuses a file on a noexec mount; the in-memory copy must not get
    // around that.
    let regular = std::fs::metadata(test_tasks()).unwrap();
    let decided = pip_core::elf::check_task_file_metadata(&regular, libc::ST_NOEXEC);
    assert!(
        matches!(decided, Err(TaskFileError::NoExecMount)),
        "{decided:?}"
    );
    let mount = match NoexecMount::new("errors") {
        Ok(m) => m,
        Err(why) => {
            eprintln!("\n!!!!! NOT TESTED FOR REAL: cannot mount a noexec tmpfs ({why}); only the decision was tested !!!!!\n");
            return;
        }
    };
    let copy = mount.0.join("libtest_tasks.so");
    std::fs::copy(test_tasks(), &copy).unwrap();
    let e = spawn_error(&copy);
    assert!(
        e.to_string().contains("mounted noexec") && e.to_string().contains("libtest_tasks.so"),
        "{e}"
    );
    assert!(matches!(reason(e), TaskFileError::NoExecMount));
}

#[test]
fn special_files_are_refused_by_their_type() {
    // Only the decision on their metadata here (stat does not block): reading a FIFO would
    // hang this process without the check, so tests/tools.rs runs the tools on them.
    let dir = std::env::temp_dir().join(format!("pip-rs-errors-fifo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let fifo = dir.join("fifo.so");
    let _ = std::fs::remove_file(&fifo);
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a valid path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    for (path, what) in [
        (fifo.as_path(), "FIFO"),
        ("/dev/zero".as_ref(), "character device"),
        (dir.as_path(), "directory"),
    ] {
        let meta = std::fs::metadata(path).unwrap();
        let e = pip_core::elf::check_task_file_metadata(&meta, 0).unwrap_err();
        assert!(
            matches!(e, TaskFileError::NotRegularFile(w) if w.contains(what)),
            "{}: {e}",
            path.display()
        );
    }
    // A directory can be opened without blocking: spawn refuses it the same way.
    let e = spawn_error(&dir);
    assert!(
        e.to_string().contains("not a regular file but a directory"),
        "{e}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
