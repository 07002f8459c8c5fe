//! `zerocopy` as a PiP task program: `pip-exec -n 2 libzerocopy.so [options]`.
//! Options: `-h`, and see `bench::zerocopy`.

fn zerocopy() -> i32 {
    let args: Vec<String> = pip_core::args().into_iter().skip(1).collect();
    bench::task_main(&bench::zerocopy::spec(), &args, bench::zerocopy::run)
}

pip_core::task_main!(zerocopy);
