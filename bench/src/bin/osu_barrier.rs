//! `osu_barrier` over thread ranks (`pip_comm::run`; `--ranks N`, default 2). For PiP tasks,
//! run the `libosu_barrier.so` example through pip-exec instead.
fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    std::process::exit(bench::barrier::threads_main(&args));
}
