//! `osu_multi_lat` as a PiP task program: `pip-exec -n 4 libosu_multi_lat.so [options]`.
//! Options: `-h`, and see `bench::multi_lat`.

fn osu_multi_lat() -> i32 {
    let args: Vec<String> = pip_core::args().into_iter().skip(1).collect();
    bench::task_main(&bench::multi_lat::spec(), &args, bench::multi_lat::run)
}

pip_core::task_main!(osu_multi_lat);
