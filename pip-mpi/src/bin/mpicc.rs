//! `mpicc`: compiles and links MPI programs with pip-rs's MPI. See `mpicc --help` and the
//! driver's documentation in `wrapper/compile.rs`.

#[path = "wrapper/compile.rs"]
mod compile;

fn main() {
    compile::run(compile::Lang::C)
}
