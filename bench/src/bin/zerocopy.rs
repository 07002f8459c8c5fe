//! `zerocopy` over thread ranks (`pip_comm::run`). For PiP tasks, run the `libzerocopy.so`
//! example through pip-exec instead. Options: `-h`, and see `bench::zerocopy`.
fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    std::process::exit(bench::threads_main(
        &bench::zerocopy::spec(),
        &args,
        bench::zerocopy::run,
    ));
}
