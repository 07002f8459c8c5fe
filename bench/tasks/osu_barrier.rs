//! `osu_barrier` as a PiP task program: `pip-exec -n N libosu_barrier.so [options]`.

fn osu_barrier() -> i32 {
    let args: Vec<String> = pip_core::args().into_iter().skip(1).collect();
    bench::barrier::task_main(&args)
}

pip_core::task_main!(osu_barrier);
