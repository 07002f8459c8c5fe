//! `osu_latency` over 2 thread ranks (`pip_comm::run`). For PiP tasks, run the
//! `libosu_latency.so` example through pip-exec instead. Options: see `bench::options`.
fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    std::process::exit(bench::latency::threads_main(&args));
}
