#!/usr/bin/env bash
# Runs osu_latency several times as 2 thread ranks and as 2 PiP tasks, interleaved (this
# machine is noisy), and prints a Markdown table of the per-size medians and minima.
#
#   cargo build --release -p bench --bins --examples && cargo build --release -p pip-tools
#   bench/scripts/latency-medians.sh [osu_latency options]      # e.g. -m 0:4m -i 10000
#
# Environment: ROUNDS (default 5), TARGET (default ${CARGO_TARGET_DIR:-target}/release);
# every PIP_COMM_* variable is passed through to both forms.
set -euo pipefail
rounds=${ROUNDS:-5}
target=${TARGET:-${CARGO_TARGET_DIR:-target}/release}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for r in $(seq "$rounds"); do
    "$target/osu_latency" "$@" | grep -v '^#' >"$tmp/threads.$r"
    "$target/pip-exec" -n 2 "$target/examples/libosu_latency.so" "$@" | grep -v '^#' >"$tmp/tasks.$r"
done
# Median and minimum of column 2 per size (column 1), over the rounds of one form.
stats() {
    cat "$tmp/$1".* | awk '{ v[$1] = v[$1] " " $2 } END { for (s in v) print s, v[s] }' |
        while read -r size values; do
            sorted=$(tr ' ' '\n' <<<"$values" | grep . | sort -g)
            n=$(wc -l <<<"$sorted")
            median=$(sed -n "$(((n + 1) / 2))p" <<<"$sorted")
            echo "$size $median $(head -1 <<<"$sorted")"
        done | sort -n
}
stats threads >"$tmp/t"
stats tasks >"$tmp/k"
echo "| size (B) | thread ranks: median (us) | min | PiP tasks: median (us) | min |"
echo "|---:|---:|---:|---:|---:|"
join "$tmp/t" "$tmp/k" | sort -n | awk '{ printf "| %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5 }'
echo
echo "($rounds rounds each, interleaved; options: ${*:-defaults})"
