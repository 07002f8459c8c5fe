//! OSU-style benchmarks for pip-rs (see BENCHMARKS.md).
