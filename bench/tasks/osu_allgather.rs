//! `osu_allgather` as a PiP task program: `pip-exec -n N libosu_allgather.so [options]`.
//! Options: `-h`, and see `bench::collective`.

fn osu_allgather() -> i32 {
    let args: Vec<String> = pip_core::args().into_iter().skip(1).collect();
    let spec = bench::collective::Collective::Allgather.spec();
    bench::task_main(&spec, &args, bench::collective::allgather)
}

pip_core::task_main!(osu_allgather);
