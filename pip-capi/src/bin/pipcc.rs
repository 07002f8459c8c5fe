//! `pipcc`: compiles and links C programs against the PiP C API (`pip.h`, `libpip.so`). See
//! `pipcc --help` and the driver's documentation in `wrapper/driver.rs`.

#[path = "wrapper/driver.rs"]
mod driver;

fn main() {
    driver::run(driver::Lang::C)
}
