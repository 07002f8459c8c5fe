#!/usr/bin/env bash
# osu_latency as 2 thread ranks and as 2 PiP tasks, and the same ping-pong over the system's
# MPICH and Open MPI when they are installed (bench/mpi/latency.c, built here with mpicc.mpich
# and mpicc.openmpi), all run ROUNDS times interleaved (this machine is noisy). Prints a
# Markdown table of per-size medians, and the ratio of PiP tasks to the better MPI.
#
#   cargo build --release -p bench --bins --examples && cargo build --release -p pip-tools
#   bench/scripts/latency-compare.sh [-m MIN:MAX] [-i N] [-x N]
#
# Environment: ROUNDS (default 5); TARGET (default ${CARGO_TARGET_DIR:-target}/release);
# every PIP_COMM_* variable reaches both pip-rs forms.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
rounds=${ROUNDS:-5}
target=${TARGET:-${CARGO_TARGET_DIR:-target}/release}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

forms=(threads tasks)
declare -A cmd
cmd[threads]="$target/osu_latency"
cmd[tasks]="$target/pip-exec -n 2 $target/examples/libosu_latency.so"
if command -v mpicc.mpich >/dev/null && command -v mpirun.mpich >/dev/null; then
    mpicc.mpich -O2 -o "$tmp/latency-mpich" "$here/mpi/latency.c"
    forms+=(mpich)
    cmd[mpich]="mpirun.mpich -n 2 $tmp/latency-mpich"
fi
if command -v mpicc.openmpi >/dev/null && command -v mpirun.openmpi >/dev/null; then
    mpicc.openmpi -O2 -o "$tmp/latency-ompi" "$here/mpi/latency.c"
    forms+=(ompi)
    root=()
    [ "$(id -u)" = 0 ] && root=(--allow-run-as-root)
    cmd[ompi]="mpirun.openmpi ${root[*]} -n 2 $tmp/latency-ompi"
fi

for r in $(seq "$rounds"); do
    for f in "${forms[@]}"; do
        # shellcheck disable=SC2086
        ${cmd[$f]} "$@" | grep -v '^#' >"$tmp/$f.$r"
    done
done

# Per size: the median of column 2 over the rounds of one form.
medians() {
    cat "$tmp/$1".* | awk '{ v[$1] = v[$1] " " $2 } END { for (s in v) print s, v[s] }' |
        while read -r size values; do
            sorted=$(tr ' ' '\n' <<<"$values" | grep . | sort -g)
            n=$(wc -l <<<"$sorted")
            echo "$size $(sed -n "$(((n + 1) / 2))p" <<<"$sorted")"
        done | sort -n
}
medians "${forms[0]}" >"$tmp/joined"
for f in "${forms[@]:1}"; do
    medians "$f" | join "$tmp/joined" - >"$tmp/next"
    mv "$tmp/next" "$tmp/joined"
done

declare -A title=([threads]="pip-rs thread ranks" [tasks]="pip-rs PiP tasks" [mpich]="MPICH" [ompi]="Open MPI")
header="| size (B) |"
rule="|---:|"
for f in "${forms[@]}"; do
    header+=" ${title[$f]} (us) |"
    rule+="---:|"
done
if [ ${#forms[@]} -gt 2 ]; then
    header+=" PiP tasks / best MPI |"
    rule+="---:|"
fi
echo "$header"
echo "$rule"
sort -n "$tmp/joined" | awk -v nf=${#forms[@]} '{
    line = "| " $1 " |"
    for (i = 2; i <= nf + 1; i++) line = line " " $i " |"
    if (nf > 2) {
        best = $4
        for (i = 5; i <= nf + 1; i++) if ($i + 0 < best + 0) best = $i
        line = line sprintf(" %.2f |", best > 0 ? $3 / best : 0)
    }
    print line
}'
echo
echo "Medians of $rounds interleaved rounds; options: ${*:-the defaults}."
