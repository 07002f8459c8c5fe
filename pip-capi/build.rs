//! Links libpip.so with the soname `libpip.so` and, where we know the dynamic linker (x86-64
//! glibc), makes it runnable: builds the entry point in src/c/shim.c, and sets it and the
//! `.interp` section that names the dynamic linker. Only linker options every linker takes are
//! used (no second version script: GNU ld refuses to combine one with rustc's).
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

    let link = |arg: String| println!("cargo:rustc-cdylib-link-arg={arg}");
    link("-Wl,-soname,libpip.so".to_string());
    if let Some(interp) = interp {
        let shim_c = dir.join("src/c/shim.c");
        let shim_o = out.join("shim.o");
        let status = Command::new(&cc)
            .args(["-c", "-fPIC", "-O2", "-Wall", "-DPIP_CAPI_RUNNABLE"])
            .arg(format!("-DPIP_CAPI_INTERP=\"{interp}\""))
            .arg("-o")
            .arg(&shim_o)
            .arg(&shim_c)
            .status()
            .unwrap_or_else(|e| {
                panic!("cannot run the C compiler `{cc}` for src/c/shim.c (install gcc or clang, or set CC): {e}")
            });
        assert!(status.success(), "`{cc}` failed on src/c/shim.c");
        link(shim_o.display().to_string());
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
    for f in ["build.rs", "src/c/shim.c"] {
        println!("cargo:rerun-if-changed={f}");
    }
    println!("cargo:rerun-if-env-changed=CC");
}
