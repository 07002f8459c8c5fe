//! The PiP C API as PiP programs use it: C programs in `tests/c/`, built with pipcc at test time
//! and run as child processes (each is a PiP root; a job that hangs is killed, no test relies
//! on timing). Each program checks every return value itself and prints `<name>: ok`.
mod support;

use std::process::Command;
use support::*;

const NAMESPACE: &[(&str, &str)] = &[("PIP_ISOLATION", "namespace")];

#[test]
fn self_spawning_root_with_private_statics() {
    let p = build("self_spawn", &[]);
    let out = run_program(&p, &["4"], &[]);
    out.assert_ok("self_spawn: ok");
    // Four tasks, four distinct addresses of the same static.
    let mut addrs: Vec<&str> = out
        .stdout
        .lines()
        .filter_map(|l| l.split(" at ").nth(1))
        .collect();
    addrs.sort();
    addrs.dedup();
    assert_eq!(addrs.len(), 4, "{}", out.all());
}

#[test]
fn self_spawning_root_with_many_tasks() {
    let p = build("self_spawn", &[]);
    run_program(&p, &["64"], &[]).assert_ok("self_spawn: ok");
}

#[test]
fn a_bad_stack_size_is_an_error_with_a_message() {
    let p = build("self_spawn", &[]);
    for var in ["PIP_STACKSZ", "PIP_STACKSIZE"] {
        let out = run_program(&p, &["1"], &[(var, "abc")]);
        assert_ne!(out.code, Some(0), "{var}: {}", out.all());
        assert!(
            out.stderr.contains(&format!("{var}=abc: not a size")),
            "{var}: {}",
            out.all()
        );
    }
}

#[test]
fn self_spawning_root_in_namespace_isolation() {
    let p = build("self_spawn", &[]);
    run_program(&p, &["8"], NAMESPACE).assert_ok("self_spawn: ok");
}

#[test]
fn every_function_and_its_error_codes() {
    let dir = build_dir();
    // The files the spawn errors need: not executable, executable but not ELF.
    std::fs::write(dir.join("not-exec"), "not a program\n").unwrap();
    std::fs::write(dir.join("not-elf"), "#!/bin/sh\nexit 0\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir.join("not-elf"), std::fs::Permissions::from_mode(0o755)).unwrap();
    let p = build("errors", &[]);
    let out = run_program(&p, &[], &[]);
    out.assert_ok("errors: ok");
    // Refused process modes and unloadable programs say why.
    assert!(
        out.stderr.contains("need PiP's patched glibc"),
        "{}",
        out.all()
    );
    assert!(out.stderr.contains("not an ELF file"), "{}", out.all());
    assert!(out.stderr.contains("PiP-INFO<R> hello 42"), "{}", out.all());
    // A static start function is refused (ENOEXEC), with the reason.
    assert!(
        out.stderr.contains("`hidden_start` is not exported"),
        "{}",
        out.all()
    );
}

#[test]
fn every_function_and_its_error_codes_in_namespace_isolation() {
    let dir = build_dir();
    std::fs::write(dir.join("not-exec"), "not a program\n").unwrap();
    std::fs::write(dir.join("not-elf"), "#!/bin/sh\nexit 0\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir.join("not-elf"), std::fs::Permissions::from_mode(0o755)).unwrap();
    let p = build("errors", &[]);
    run_program(&p, &[], NAMESPACE).assert_ok("errors: ok");
}

#[test]
fn pips_process_sub_modes_are_refused() {
    let p = build("self_spawn", &[]);
    for mode in [
        "process:preload",
        "process:pipclone",
        "process:got",
        "bogus",
    ] {
        let out = run_program(&p, &["2"], &[("PIP_MODE", mode)]);
        assert_eq!(out.code, Some(1), "PIP_MODE={mode}: {}", out.all());
        assert!(
            out.stderr.contains("gave 1 (Operation not permitted)")
                && out.stderr.contains(&format!("PIP_MODE={mode}")),
            "PIP_MODE={mode}: {}",
            out.all()
        );
    }
    for mode in ["thread", "pthread", "process"] {
        run_program(&p, &["2"], &[("PIP_MODE", mode)]).assert_ok("self_spawn: ok");
    }
}

#[test]
fn the_mode_from_pip_init_opts() {
    let p = build("mode", &[]);
    for mode in ["pthread", "process"] {
        run_program(&p, &[mode], &[]).assert_ok(&format!("mode {mode}: ok"));
    }
}

#[test]
fn process_mode_runs_every_program() {
    let process = &[("PIP_MODE", "process")];
    let dir = build_dir();
    std::fs::write(dir.join("not-exec"), "not a program\n").unwrap();
    std::fs::write(dir.join("not-elf"), "#!/bin/sh\nexit 0\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir.join("not-elf"), std::fs::Permissions::from_mode(0o755)).unwrap();
    for (name, args) in [
        ("self_spawn", &["8"][..]),
        ("errors", &[][..]),
        ("namexp", &["6"][..]),
        ("barrier", &["4"][..]),
        ("exits", &[][..]),
        ("kill", &["3"][..]),
        ("threads", &[][..]),
    ] {
        let p = build(name, &[]);
        run_program(&p, args, process).assert_ok(&format!("{name}: ok"));
    }
    let p = build("abort", &[]);
    for who in ["root", "task"] {
        let out = run_program(&p, &[who], process);
        assert_eq!(out.signal, Some(libc::SIGABRT), "{who}: {}", out.all());
        assert!(!out.stdout.contains("not reached"), "{}", out.all());
    }
}

#[test]
fn named_export_import_ring_over_100_rounds() {
    let p = build("namexp", &[]);
    run_program(&p, &["8"], &[]).assert_ok("namexp: ok");
}

#[test]
fn named_export_import_ring_in_namespace_isolation() {
    let p = build("namexp", &[]);
    run_program(&p, &["6"], NAMESPACE).assert_ok("namexp: ok");
}

#[test]
fn barrier_in_lock_step() {
    let p = build("barrier", &[]);
    // More parties than cores: the waiting path sleeps.
    run_program(&p, &["8"], &[]).assert_ok("barrier: ok");
    run_program(&p, &["1"], &[]).assert_ok("barrier: ok");
}

#[test]
fn exit_codes_and_signals_through_pip_wait() {
    let p = build("exits", &[]);
    run_program(&p, &[], &[]).assert_ok("exits: ok");
}

#[test]
fn exit_codes_and_signals_in_namespace_isolation() {
    let p = build("exits", &[]);
    run_program(&p, &[], NAMESPACE).assert_ok("exits: ok");
}

#[test]
fn threads_created_by_a_task_belong_to_it() {
    let p = build("threads", &[]);
    run_program(&p, &[], &[]).assert_ok("threads: ok");
    run_program(&p, &[], NAMESPACE).assert_ok("threads: ok");
}

#[test]
fn machdep_spin_locks_and_atomics_between_tasks() {
    let p = build("machdep", &[]);
    run_program(&p, &[], &[]).assert_ok("machdep: ok");
    run_program(&p, &[], &[("PIP_MODE", "process")]).assert_ok("machdep: ok");
}

#[test]
fn the_headers_build_as_cxx() {
    // PiP programs are also C++: the headers must compile there (skipped without a C++
    // compiler).
    let include = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("include");
    let r = Command::new("c++")
        .args(["-fsyntax-only", "-Wall", "-Wextra", "-x", "c++"])
        .arg(format!("-I{}", include.display()))
        .arg(format!("-I{}", c_dir().display()))
        .arg(c_dir().join("machdep.c"))
        .output();
    match r {
        Err(e) => eprintln!("no C++ compiler (c++: {e}): skipped"),
        Ok(out) => assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}

#[test]
fn pip_kill_signal_ring_and_kill_all() {
    let p = build("kill", &[]);
    run_program(&p, &["4"], &[]).assert_ok("kill: ok");
}

#[test]
fn pip_abort_from_the_root_and_from_a_task_ends_the_job_with_sigabrt() {
    let p = build("abort", &[]);
    for who in ["root", "task"] {
        let out = run_program(&p, &[who], &[]);
        assert_eq!(out.signal, Some(libc::SIGABRT), "{who}: {}", out.all());
        assert!(!out.stdout.contains("not reached"), "{}", out.all());
    }
}

#[test]
fn a_root_must_link_libpip_before_libc() {
    // libc first: tasks would bind exit() to libc's, so pip_init refuses, and pip-check too.
    let include = format!(
        "-I{}",
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("include")
            .display()
    );
    let out_path = build_dir().join("libc-first");
    let lib = libpip();
    let lib_dir = lib.parent().unwrap().display().to_string();
    let r = Command::new("cc")
        .args([&include, &format!("-I{}", c_dir().display())])
        .args(["-fPIE", "-pie", "-rdynamic", "-o"])
        .arg(&out_path)
        .arg(c_dir().join("self_spawn.c"))
        .args([format!("-L{lib_dir}"), format!("-Wl,-rpath,{lib_dir}")])
        .args(["-lc", "-lpip"])
        .output()
        .unwrap();
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let out = run_program(&out_path, &["2"], &[]);
    assert_eq!(out.code, Some(1), "{}", out.all());
    assert!(
        out.stderr.contains("link libpip.so before libc"),
        "{}",
        out.all()
    );
    let check = run(Command::new(tool("pip-check")).arg("-r").arg(&out_path));
    assert_ne!(check.code, Some(0), "{}", check.all());
    assert!(
        check.stdout.contains("links libpip.so after libc"),
        "{}",
        check.all()
    );
}

#[test]
fn pip_exec_runs_c_tasks_built_with_pipcc() {
    let p = build("query", &[]);
    let out = run(Command::new(tool("pip-exec"))
        .args(["-n", "3"])
        .arg(&p)
        .args(["zero", "root"]));
    assert_eq!(out.code, Some(0), "{}", out.all());
    for i in 0..3 {
        assert!(
            out.stdout.contains(&format!("task {i} of 3: ok")),
            "{}",
            out.all()
        );
    }
    let out = run(Command::new(tool("pip-exec"))
        .args(["--isolation", "namespace", "-n", "2"])
        .arg(&p)
        .args(["zero", "task"]));
    assert_eq!(out.code, Some(0), "{}", out.all());
    assert!(out.stdout.contains("task 1 of 2: ok"), "{}", out.all());
    assert!(out.stderr.contains("task 1: stderr works"), "{}", out.all());
    // A start function; pip-exec's exit code is the task's.
    let out = run(Command::new(tool("pip-exec"))
        .args(["-n", "1", "-f", "start_here"])
        .arg(&p));
    assert_eq!(out.code, Some(40), "{}", out.all());
    // A task's exit code reaches pip-exec.
    let out = run(Command::new(tool("pip-exec"))
        .args(["-n", "1"])
        .arg(&p)
        .arg("pipid")
        .args([":", "-n", "1"])
        .arg(&p)
        .arg("pipid"));
    assert_eq!(out.code, Some(1), "{}", out.all());
}

#[test]
fn pip_check_sees_pipcc_output_as_root_and_task() {
    let p = build("self_spawn", &[]);
    let out = run(Command::new(tool("pip-check")).arg("-b").arg(&p));
    assert_eq!(out.code, Some(0), "{}", out.all());
    assert!(out.stdout.contains("task and root"), "{}", out.all());
    assert!(
        out.stdout.contains("linked with libpip.so"),
        "{}",
        out.all()
    );
}

#[test]
fn pipcc_root_only_and_task_only_builds() {
    let root = build_as("spawner", "spawner-root", &["--piproot"]);
    let task = build_as("query", "query-task", &["--piptask"]);
    let out = run_program(&root, &[task.to_str().unwrap()], &[]);
    // query's tasks exit with their pipid; spawner checks that.
    out.assert_ok("spawner: ok");
    let check = run(Command::new(tool("pip-check")).arg(&root).arg(&task));
    assert!(
        check.stdout.contains("spawner-root: root"),
        "{}",
        check.all()
    );
    assert!(check.stdout.contains("query-task: task"), "{}", check.all());
}

#[test]
fn pipcc_options() {
    let cc = |args: &[&str], env: &[(&str, &str)]| {
        let mut c = Command::new(pipcc());
        c.args(args);
        for (k, v) in env {
            c.env(k, v);
        }
        run(&mut c)
    };
    let out = cc(&["--cflags"], &[]);
    assert_eq!(out.code, Some(0), "{}", out.all());
    assert!(
        out.stdout.contains("-I") && out.stdout.contains("-DPIP_VERSION_MAJOR=2"),
        "{}",
        out.all()
    );
    let include = out.stdout.split_whitespace().next().unwrap()[2..].to_string();
    assert!(std::path::Path::new(&include).join("pip/pip.h").exists());
    let out = cc(&["--lflags"], &[]);
    let lib_dir = libpip().parent().unwrap().canonicalize().unwrap();
    for want in [
        "-pie".to_string(),
        "-rdynamic".to_string(),
        "-lpip".to_string(),
        format!("-L{}", lib_dir.display()),
    ] {
        assert!(out.stdout.contains(&want), "no {want}: {}", out.all());
    }
    let out = cc(&["--piproot", "--lflags"], &[]);
    assert!(
        out.stdout.contains("-no-pie")
            && !out.stdout.contains("-rdynamic")
            && out.stdout.contains("-lpip"),
        "{}",
        out.all()
    );
    assert_eq!(cc(&["--which"], &[("CC", "gcc")]).stdout.trim(), "gcc");
    assert_eq!(cc(&["--which"], &[("CC", "")]).stdout.trim(), "cc");
    let out = cc(&["-static", "-o", "x", "x.c"], &[]);
    assert_eq!(out.code, Some(1), "{}", out.all());
    assert!(
        out.stderr.contains("-static is not allowed"),
        "{}",
        out.all()
    );
    let out = cc(&["--dryrun", "-c", "x.c"], &[]);
    assert!(
        out.stdout.contains("-fPIC") && !out.stdout.contains("-lpip"),
        "compiling only needs no link flags: {}",
        out.all()
    );

    // --nopip: the plain compiler, so the program needs no libpip.so and is not a PiP root.
    let plain = build_as("check_only", "plain", &["--nopip"]);
    let out = run_program(&plain, &[], &[]);
    assert_eq!(out.code, Some(0), "{}", out.all());
    let check = run(Command::new(tool("pip-check")).arg("-r").arg(&plain));
    assert_ne!(check.code, Some(0), "{}", check.all());
}

#[test]
fn libpip_is_runnable_and_prints_its_build() {
    let lib = libpip();
    let out = run(Command::new(&lib).arg("--version"));
    assert_eq!(out.code, Some(0), "{}", out.all());
    assert_eq!(out.stdout.trim(), "2.0.0");
    let out = run(Command::new(&lib).arg("--debug"));
    let want = if cfg!(debug_assertions) { "yes" } else { "no" };
    assert_eq!(out.stdout.trim(), want, "{}", out.all());
    let out = run(Command::new(&lib).arg("--name"));
    assert!(out.stdout.contains("pip-rs"), "{}", out.all());
    let out = run(&mut Command::new(&lib));
    assert_eq!(out.code, Some(0), "{}", out.all());
    for label in ["Name:", "Version:", "Debug:", "glibc:"] {
        assert!(out.stdout.contains(label), "{}", out.all());
    }
    for bad in ["--help", "--usage", "--nonsense"] {
        let out = run(Command::new(&lib).arg(bad));
        assert_eq!(out.code, Some(1), "{bad}: {}", out.all());
        assert!(out.stderr.contains("usage: libpip.so"), "{}", out.all());
    }
}

/// The functions a header declares: every `pip_*` name followed by `(` outside comments and
/// `#define` lines, except the ones the header defines itself (`static inline`).
fn declared_functions(header: &str) -> Vec<String> {
    // Drop comments, keeping line structure.
    let mut text = String::new();
    let mut rest = header;
    while let Some(i) = rest.find("/*") {
        text.push_str(&rest[..i]);
        rest = rest[i + 2..]
            .split_once("*/")
            .map_or("", |(_, after)| after);
    }
    text.push_str(rest);
    let code: String = text
        .lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .filter(|l| !l.trim_start().starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n");
    let is_ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    // (name, offset) of every `pip_name(`.
    let mut calls = Vec::new();
    let mut at = 0;
    while let Some(i) = code[at..].find("pip_") {
        let start = at + i;
        at = start + 4;
        if code[..start].chars().next_back().is_some_and(is_ident) {
            continue;
        }
        let len = code[start..].find(|c: char| !is_ident(c)).unwrap_or(0);
        let name = &code[start..start + len];
        if code[start + len..].trim_start().starts_with('(') {
            calls.push((name.to_string(), start));
        }
    }
    // The first `pip_name(` after each `static inline` is a definition.
    let mut inline = std::collections::BTreeSet::new();
    for (i, _) in code.match_indices("static inline") {
        if let Some((name, _)) = calls.iter().find(|(_, off)| *off > i) {
            inline.insert(name.clone());
        }
    }
    let mut names: Vec<String> = calls
        .into_iter()
        .map(|(n, _)| n)
        .filter(|n| !inline.contains(n))
        .collect();
    names.sort();
    names.dedup();
    names
}

#[test]
fn the_declared_function_finder_sees_declarations_only() {
    let header = "/* pip_in_comment(x) */\n#define pip_macro(x) pip_called_by_macro(x)\nint pip_a(int x);\nvoid *pip_b (void);\nstatic inline int pip_c(void) { return pip_d(); }\nint pip_e;\n";
    assert_eq!(declared_functions(header), ["pip_a", "pip_b", "pip_d"]);
}

#[test]
fn libpip_exports_every_function_the_headers_declare() {
    // Every function that pip.h (or another header of include/pip) declares, not the inline
    // ones it defines, is exported by libpip.so, so that none can go missing; so are pip-core's
    // `exit` and C bridge.
    let include = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("include/pip");
    let mut declared = Vec::new();
    for entry in std::fs::read_dir(&include).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "h") {
            declared.extend(declared_functions(&std::fs::read_to_string(&path).unwrap()));
        }
    }
    let Ok(nm) = Command::new("nm")
        .args(["-D", "--defined-only"])
        .arg(libpip())
        .output()
    else {
        eprintln!("nm (binutils) is missing: skipping the symbol check");
        return;
    };
    let nm = String::from_utf8_lossy(&nm.stdout).into_owned();
    // `nm -D` lines: `ADDRESS TYPE NAME`; functions are `T`.
    let functions: Vec<&str> = nm
        .lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            let (_, kind, name) = (f.next()?, f.next()?, f.next()?);
            (kind == "T" || kind == "i").then_some(name)
        })
        .collect();
    assert!(
        functions.contains(&"pip_init"),
        "nm cannot read libpip.so:\n{nm}"
    );
    // PiP's functions that programs and PiP's own tools link against.
    for name in [
        "pip_init",
        "pip_is_debug_build",
        "pip_dlopen",
        "pip_dlsym",
        "pip_glibc_lock",
        "pip_glibc_unlock",
        "pip_kill_all_tasks",
    ] {
        assert!(
            declared.iter().any(|d| d == name),
            "pip.h does not declare {name}"
        );
    }
    assert!(declared.len() >= 55, "{declared:?}");
    let missing: Vec<&String> = declared
        .iter()
        .filter(|d| !functions.contains(&d.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "libpip.so does not export these functions that include/pip declares: {missing:?}"
    );
    for name in [
        "exit",
        "pthread_create",
        "pip_rs_current_task",
        "pip_rs_task_thread",
        "pip_rs_task_kill",
    ] {
        assert!(
            functions.contains(&name),
            "libpip.so does not export {name}"
        );
    }
    // The printf-style functions are inline in pip.h.
    let header = std::fs::read_to_string(include.join("pip.h")).unwrap();
    assert!(
        header.contains("static inline int pip_named_export(void *exp, const char *format, ...)")
    );
}

#[test]
fn the_loader_lock_and_the_locked_dl_calls_in_every_mode() {
    let p = build("dl", &[]);
    let debug = if cfg!(debug_assertions) { "1" } else { "0" };
    for env in [
        &[("PIP_MODE", "thread")][..],
        &[("PIP_MODE", "process")][..],
        NAMESPACE,
        &[("PIP_MODE", "process"), ("PIP_ISOLATION", "namespace")][..],
    ] {
        let out = run_program(&p, &["4", debug], env);
        out.assert_ok("dl: ok");
        assert!(
            out.stdout.contains("PiP-INFO<R> fmesg 7"),
            "{env:?}: {}",
            out.all()
        );
    }
    // pip_debug_info prints the memory map when asked to.
    let out = run_program(&p, &["1", debug], &[("PIP_SHOW_MAPS", "on")]);
    out.assert_ok("dl: ok");
    assert!(
        out.stderr.contains("Show MAPS") && out.stderr.contains("libpip.so"),
        "{}",
        out.all()
    );
}

#[test]
fn pip_init_accepts_the_mode_pip_get_mode_gave() {
    let p = build("mode_opts", &[]);
    run_program(&p, &[], &[]).assert_ok("mode_opts pthread: ok");
    run_program(&p, &[], &[("PIP_MODE", "thread")]).assert_ok("mode_opts pthread: ok");
    run_program(&p, &[], &[("PIP_MODE", "process")]).assert_ok("mode_opts process: ok");
}

#[test]
fn task_spawn_with_a_program_struct_and_a_hook_struct() {
    let p = build("hooks", &[]);
    run_program(&p, &[], &[]).assert_ok("hooks: ok");
}

/// `scripts/install-capi` lays out PREFIX/{bin/pipcc, lib/libpip.so, include/pip/*.h}; the
/// installed pipcc uses the installed library and headers, and its programs run from anywhere.
#[test]
fn an_installed_tree_builds_and_runs_programs() {
    let prefix = build_dir().join("installed");
    let _ = std::fs::remove_dir_all(&prefix);
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/install-capi");
    let out = support::run(
        Command::new(&script)
            .arg("--from")
            .arg(target_dir())
            .arg(&prefix),
    );
    assert_eq!(out.code, Some(0), "{}", out.all());
    for f in [
        "bin/pipcc",
        "bin/pipfc",
        "lib/libpip.so",
        "include/pip/pip.h",
        "include/pip/pip_clone.h",
        "include/pip/pip_machdep.h",
        "include/pip/pip_dlfcn.h",
    ] {
        assert!(prefix.join(f).exists(), "{f} not installed: {}", out.all());
    }
    let pipcc = prefix.join("bin/pipcc");
    let whereis = support::run(Command::new(&pipcc).arg("--where"));
    let lib = prefix.join("lib").canonicalize().unwrap();
    let include = prefix.join("include").canonicalize().unwrap();
    assert!(
        whereis.stdout.contains(lib.to_str().unwrap())
            && whereis.stdout.contains(include.to_str().unwrap()),
        "{}",
        whereis.all()
    );
    let exe = prefix.join("self_spawn");
    let cc = support::run(
        Command::new(&pipcc)
            .arg(format!("-I{}", c_dir().display()))
            .arg("-o")
            .arg(&exe)
            .arg(c_dir().join("self_spawn.c")),
    );
    assert_eq!(cc.code, Some(0), "{}", cc.all());
    run_program(&exe, &["3"], &[]).assert_ok("self_spawn: ok");
    // The program finds the installed libpip.so through its rpath.
    let needed = std::fs::read(&exe).unwrap();
    let rpath = lib.to_str().unwrap().as_bytes();
    assert!(
        needed.windows(rpath.len()).any(|w| w == rpath),
        "no rpath to {}",
        lib.display()
    );
}
