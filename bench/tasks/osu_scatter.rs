//! `osu_scatter` as a PiP task program: `pip-exec -n N libosu_scatter.so [options]`.
//! Options: `-h`, and see `bench::collective`.

fn osu_scatter() -> i32 {
    let args: Vec<String> = pip_core::args().into_iter().skip(1).collect();
    let spec = bench::collective::Collective::Scatter.spec();
    bench::task_main(&spec, &args, bench::collective::scatter)
}

pip_core::task_main!(osu_scatter);
