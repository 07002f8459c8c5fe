//! `osu_bcast` as a PiP task program: `pip-exec -n N libosu_bcast.so [options]`.
//! Options: `-h`, and see `bench::collective`.

fn osu_bcast() -> i32 {
    let args: Vec<String> = pip_core::args().into_iter().skip(1).collect();
    let spec = bench::collective::Collective::Bcast.spec();
    bench::task_main(&spec, &args, bench::collective::bcast)
}

pip_core::task_main!(osu_bcast);
