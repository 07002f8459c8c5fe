//! `osu_bw` as a PiP task program: `pip-exec -n 2 libosu_bw.so [options]`.
//! Options: `-h`, and see `bench::bw`.

fn osu_bw() -> i32 {
    let args: Vec<String> = pip_core::args().into_iter().skip(1).collect();
    bench::task_main(&bench::bw::spec_bw(), &args, bench::bw::run_bw)
}

pip_core::task_main!(osu_bw);
