//! Builds the C part of libpip.so (src/c/shim.c: the variadic functions of pip.h and the entry
//! point that makes the library runnable) and links it into the cdylib, with the extra version
//! script that exports it and the soname `libpip.so`.
use std::path::PathBuf;
use std::process::Command;

fn main() {
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    let dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let arch = std::env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    let env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".to_string());

    // The library is runnable where we know the dynamic linker and have an entry point for it.
    let interp = (arch == "x86_64" && env == "gnu").then_some("/lib64/ld-linux-x86-64.so.2");

    let shim_c = dir.join("src/c/shim.c");
    let shim_o = out.join("shim.o");
    let mut cmd = Command::new(&cc);
    cmd.args(["-c", "-fPIC", "-O2", "-Wall", "-D_GNU_SOURCE"]);
    if let Some(interp) = interp {
        cmd.arg("-DPIP_CAPI_RUNNABLE");
        cmd.arg(format!("-DPIP_CAPI_INTERP=\"{interp}\""));
    }
    cmd.arg("-o").arg(&shim_o).arg(&shim_c);
    let status = cmd.status().unwrap_or_else(|e| {
        panic!("cannot run the C compiler `{cc}` for src/c/shim.c (install gcc or clang, or set CC): {e}")
    });
    assert!(status.success(), "`{cc}` failed on src/c/shim.c");

    let link = |arg: String| println!("cargo:rustc-cdylib-link-arg={arg}");
    link(shim_o.display().to_string());
    link(format!(
        "-Wl,--version-script={}",
        dir.join("libpip.map").display()
    ));
    link("-Wl,-soname,libpip.so".to_string());
    if interp.is_some() {
        link("-Wl,-e,pip_capi_start".to_string());
        // Keep the .interp section, which nothing references, through --gc-sections.
        link("-Wl,--undefined=pip_capi_interp".to_string());
    }

    println!("cargo:rustc-env=PIP_CAPI_CC={cc}");
    println!("cargo:rustc-env=PIP_CAPI_INTERP={}", interp.unwrap_or(""));
    println!(
        "cargo:rustc-env=PIP_CAPI_PROFILE={}",
        std::env::var("PROFILE").unwrap_or_default()
    );
    for f in ["build.rs", "libpip.map", "src/c/shim.c"] {
        println!("cargo:rerun-if-changed={f}");
    }
    println!("cargo:rerun-if-env-changed=CC");
}
