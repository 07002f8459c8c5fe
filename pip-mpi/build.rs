//! Links libmpi.so with the soname `libmpi.so` (programs record that name as their dependency;
//! pip-check and pip-exec tell it from another MPI's `libmpi.so.N`).
fn main() {
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libmpi.so");
    println!("cargo:rerun-if-changed=build.rs");
}
