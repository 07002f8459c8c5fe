//! `osu_allreduce` as a PiP task program: `pip-exec -n N libosu_allreduce.so [options]`.
//! Options: `-h`, and see `bench::collective`.

fn osu_allreduce() -> i32 {
    let args: Vec<String> = pip_core::args().into_iter().skip(1).collect();
    let spec = bench::collective::Collective::Allreduce.spec();
    bench::task_main(&spec, &args, bench::collective::allreduce)
}

pip_core::task_main!(osu_allreduce);
