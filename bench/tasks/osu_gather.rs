//! `osu_gather` as a PiP task program: `pip-exec -n N libosu_gather.so [options]`.
//! Options: `-h`, and see `bench::collective`.

fn osu_gather() -> i32 {
    let args: Vec<String> = pip_core::args().into_iter().skip(1).collect();
    let spec = bench::collective::Collective::Gather.spec();
    bench::task_main(&spec, &args, bench::collective::gather)
}

pip_core::task_main!(osu_gather);
