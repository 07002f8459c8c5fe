//! `pipfc`: compiles and links Fortran programs against the PiP C API (`libpip.so`), with the
//! same options as `pipcc`; the compiler is `$FC`, or `gfortran`. See `pipfc --help`.

#[path = "wrapper/driver.rs"]
mod driver;

fn main() {
    driver::run(driver::Lang::Fortran)
}
