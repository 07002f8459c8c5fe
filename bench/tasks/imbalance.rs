//! `imbalance` as a PiP task program: `pip-exec -n N libimbalance.so [options]`.
//! Options: `-h`, and see `bench::imbalance`.

fn imbalance() -> i32 {
    let args: Vec<String> = pip_core::args().into_iter().skip(1).collect();
    bench::task_main(&bench::imbalance::spec(), &args, bench::imbalance::run)
}

pip_core::task_main!(imbalance);
