//! `osu_bibw` as a PiP task program: `pip-exec -n 2 libosu_bibw.so [options]`.
//! Options: `-h`, and see `bench::bw`.

fn osu_bibw() -> i32 {
    let args: Vec<String> = pip_core::args().into_iter().skip(1).collect();
    bench::task_main(&bench::bw::spec_bibw(), &args, bench::bw::run_bibw)
}

pip_core::task_main!(osu_bibw);
