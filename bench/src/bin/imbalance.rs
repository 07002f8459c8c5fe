//! `imbalance` over thread ranks (`pip_comm::run`, `-n N` ranks, default 2). For PiP tasks, run
//! the `libimbalance.so` example through pip-exec instead. Options: `-h`, and see
//! `bench::imbalance`.
fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    std::process::exit(bench::threads_main(
        &bench::imbalance::spec(),
        &args,
        bench::imbalance::run,
    ));
}
