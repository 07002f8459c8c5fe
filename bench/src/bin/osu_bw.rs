//! `osu_bw` over thread ranks (`pip_comm::run`). For PiP tasks, run the `libosu_bw.so`
//! example through pip-exec instead. Options: `-h`, and see `bench::bw`.
fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    std::process::exit(bench::threads_main(
        &bench::bw::spec_bw(),
        &args,
        bench::bw::run_bw,
    ));
}
