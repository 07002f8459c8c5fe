use super::*;

fn own_exe() -> Vec<u8> {
    std::fs::read(std::env::current_exe().unwrap()).unwrap()
}

#[test]
fn rust_executable_is_refused_with_a_rust_hint() {
    match inspect_bytes(&own_exe()) {
        Err(TaskFileError::LocalExecTls { hint }) => assert!(hint.contains("cdylib"), "{hint}"),
        other => panic!("expected LocalExecTls, got {other:?}"),
    }
}

#[test]
fn non_elf_is_refused() {
    assert!(matches!(
        inspect_bytes(b"#!/bin/sh\necho hi\n"),
        Err(TaskFileError::NotElf)
    ));
    assert!(matches!(inspect_bytes(b""), Err(TaskFileError::NotElf)));
}

#[test]
fn wrong_class_and_architecture_are_refused() {
    let mut exe = own_exe();
    exe[4] = elf::ELFCLASS32;
    assert!(matches!(
        inspect_bytes(&exe),
        Err(TaskFileError::WrongClass)
    ));
    let mut exe = own_exe();
    // e_machine sits at offset 18 in the ELF header; 0xB7 is AArch64, 0x3E x86-64.
    let other: u16 = if HOST_MACHINE == elf::EM_X86_64 {
        elf::EM_AARCH64
    } else {
        elf::EM_X86_64
    };
    exe[18..20].copy_from_slice(&other.to_le_bytes());
    assert!(matches!(
        inspect_bytes(&exe),
        Err(TaskFileError::WrongArchitecture { found, .. }) if found == other
    ));
}

#[test]
fn libc_is_a_shared_object_without_main() {
    let (_, info) = inspect(Path::new("/lib/x86_64-linux-gnu/libc.so.6"))
        .or_else(|_| inspect(Path::new("/usr/lib/x86_64-linux-gnu/libc.so.6")))
        .expect("libc");
    assert_eq!(info.kind, ObjectKind::SharedObject);
    assert!(info.symbol("printf").unwrap().exported);
    let err = info.entry("main").unwrap_err();
    assert!(err.to_string().contains("`main`"), "{err}");
}

#[test]
fn missing_file_is_reported_with_its_path() {
    let err = inspect(Path::new("/nonexistent/task.so")).unwrap_err();
    assert!(matches!(err.reason, TaskFileError::Missing));
    assert_eq!(err.to_string(), "/nonexistent/task.so: no such file");
}

#[test]
fn only_small_regular_files_on_exec_mounts_pass() {
    let exe = std::fs::metadata(std::env::current_exe().unwrap()).unwrap();
    assert!(check_task_file_metadata(&exe, 0).is_ok());
    assert!(matches!(
        check_task_file_metadata(&exe, libc::ST_NOEXEC),
        Err(TaskFileError::NoExecMount)
    ));
    let dev = std::fs::metadata("/dev/null").unwrap();
    let err = check_task_file_metadata(&dev, 0).unwrap_err();
    assert!(err.to_string().contains("character device"), "{err}");
}
