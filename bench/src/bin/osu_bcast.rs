//! `osu_bcast` over thread ranks (`pip_comm::run`, `-n N` ranks, default 2). For PiP tasks, run
//! the `libosu_bcast.so` example through pip-exec instead. Options: `-h`, and see
//! `bench::collective`.
fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let spec = bench::collective::Collective::Bcast.spec();
    std::process::exit(bench::threads_main(&spec, &args, bench::collective::bcast));
}
