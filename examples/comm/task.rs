// The entry of a pip-comm example built as a PiP task: takes the world, runs the example's
// body with the task's arguments, and reports an error as the task's failure.

macro_rules! comm_task {
    ($name:literal, $body:ident) => {
        fn main_task() -> i32 {
            let world = match pip_rs::pip_comm::world() {
                Ok(w) => w,
                Err(e) => {
                    eprintln!("{}: {e} (run me with pip-exec)", $name);
                    return 2;
                }
            };
            let args = pip_rs::pip_core::args();
            match $body::run(&world, args.get(1..).unwrap_or_default()) {
                Ok(()) => 0,
                Err(e) => {
                    use pip_rs::pip_comm::traits::Communicator as _;
                    eprintln!("{}: rank {}: {e}", $name, world.rank());
                    1
                }
            }
        }
        pip_rs::task_main!(main_task);
    };
}
