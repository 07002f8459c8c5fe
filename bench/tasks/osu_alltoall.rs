//! `osu_alltoall` as a PiP task program: `pip-exec -n N libosu_alltoall.so [options]`.
//! Options: `-h`, and see `bench::collective`.

fn osu_alltoall() -> i32 {
    let args: Vec<String> = pip_core::args().into_iter().skip(1).collect();
    let spec = bench::collective::Collective::Alltoall.spec();
    bench::task_main(&spec, &args, bench::collective::alltoall)
}

pip_core::task_main!(osu_alltoall);
