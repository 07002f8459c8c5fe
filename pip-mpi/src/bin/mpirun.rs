//! `mpirun`: runs an MPI program built with pip-rs's mpicc as the tasks of one PiP job. See
//! `mpirun --help` and the driver's documentation in `wrapper/launch.rs`.

#[path = "wrapper/launch.rs"]
mod launch;

fn main() {
    launch::run("mpirun")
}
