use super::*;

#[test]
fn own_executable_is_a_rust_executable_not_a_task() {
    let r = check_file(&std::env::current_exe().unwrap(), "main");
    assert_eq!(r.language, Language::Rust);
    assert!(matches!(r.kind, FileKind::Pie | FileKind::Executable));
    let err = r.task.as_ref().unwrap_err();
    assert!(err.contains("cdylib"), "{err}");
    assert!(!r.passes(Want::Task));
}

#[test]
fn missing_and_non_elf_files() {
    let r = check_file(Path::new("/nonexistent/x.so"), "main");
    assert_eq!(r.kind, FileKind::Unreadable);
    assert_eq!(r.task.as_ref().unwrap_err(), "no such file");
    assert!(!r.passes(Want::Either));
    let dir = std::env::temp_dir().join(format!("pip-check-unit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("script.sh");
    std::fs::write(&f, "#!/bin/sh\necho hi\n").unwrap();
    let r = check_file(&f, "main");
    assert_eq!(r.kind, FileKind::Foreign);
    assert!(r.task.as_ref().unwrap_err().contains("not an ELF file"));
    assert!(r.to_text(Want::Either).contains("NOT a task, NOT a root"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn verdicts() {
    let mut r = check_file(Path::new("/nonexistent"), "main");
    r.task = Ok(TaskOk {
        isolation: vec![Isolation::SharedLibc],
        entry_exported: true,
        static_tls: false,
    });
    assert_eq!(r.verdict(Want::Either), "task");
    assert_eq!(r.verdict(Want::Both), "task, NOT a root");
    assert_eq!(r.verdict(Want::Root), "NOT a root");
    assert!(r.passes(Want::Task) && !r.passes(Want::Both));
    assert_eq!(Want::from_flags(false, false, true), Want::Both);
    assert_eq!(Want::from_flags(true, true, false), Want::Both);
    assert_eq!(Want::from_flags(false, true, false), Want::Root);
}

#[test]
fn json_is_well_formed_for_a_missing_file() {
    let r = check_file(Path::new("/nonexistent/\"q\".so"), "main");
    let j = r.to_json(Want::Task);
    assert!(
        j.starts_with("{\"file\":\"/nonexistent/\\\"q\\\".so\",\"pass\":false"),
        "{j}"
    );
    assert!(j.ends_with("\"notes\":[]}"), "{j}");
}

#[test]
fn json_is_the_fact_sheet_after_file_and_pass() {
    let exe = std::env::current_exe().unwrap();
    let r = check_file(&exe, "main");
    let v: serde_json::Value = serde_json::from_str(&r.to_json(Want::Root)).unwrap();
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    for k in [
        "file",
        "pass",
        "kind",
        "language",
        "description",
        "entry",
        "task",
        "root",
        "has_main",
        "foreign_mpi",
        "notes",
    ] {
        assert!(keys.contains(&k), "{k} missing: {v}");
    }
    assert_eq!(v["file"], exe.display().to_string());
    assert_eq!(v["language"], "rust");
    assert_eq!(v["task"]["ok"], false);
    assert!(v["task"]["error"].as_str().unwrap().contains("cdylib"));
    assert_eq!(v["description"], r.describe_kind());
    assert_eq!(v["has_main"], true);
    assert_eq!(v["foreign_mpi"], serde_json::Value::Null);
}
