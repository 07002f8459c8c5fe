//! `osu_latency` as a PiP task program: `pip-exec -n 2 libosu_latency.so [options]`.
//! Options: see `bench::options`.

fn osu_latency() -> i32 {
    let args: Vec<String> = pip_core::args().into_iter().skip(1).collect();
    bench::latency::task_main(&args)
}

pip_core::task_main!(osu_latency);
