//! `osu_reduce` as a PiP task program: `pip-exec -n N libosu_reduce.so [options]`.
//! Options: `-h`, and see `bench::collective`.

fn osu_reduce() -> i32 {
    let args: Vec<String> = pip_core::args().into_iter().skip(1).collect();
    let spec = bench::collective::Collective::Reduce.spec();
    bench::task_main(&spec, &args, bench::collective::reduce)
}

pip_core::task_main!(osu_reduce);
