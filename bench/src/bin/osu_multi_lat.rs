//! `osu_multi_lat` over thread ranks (`pip_comm::run`). For PiP tasks, run the `libosu_multi_lat.so`
//! example through pip-exec instead. Options: `-h`, and see `bench::multi_lat`.
fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    std::process::exit(bench::threads_main(
        &bench::multi_lat::spec(),
        &args,
        bench::multi_lat::run,
    ));
}
