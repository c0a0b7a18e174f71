#!/usr/bin/env bash
# Runs the benchmark programs of a build directory configured with
# -Dbench=true and prints the ratios of the performance targets (each ratio
# compares two benchmarks of the same run; never a time on its own). Then,
# where bench_peers was built (Qt 5 and Abseil installed), it runs libcow
# beside its peers and writes their side-by-side report: the tables on the
# terminal and in BUILD_DIR/bench-results/peers.md, the chart in peers.svg.
#   tools/bench.sh BUILD_DIR [extra Google Benchmark flags, e.g. --benchmark_filter=map]
# BENCH_MIN_TIME, BENCH_REPETITIONS and BENCH_STAT (median or min over the
# repetitions) override the defaults below.
set -euo pipefail

build="${1:?usage: tools/bench.sh BUILD_DIR [benchmark flags]}"
shift
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="$build/bench-results"
mkdir -p "$out"

min_time="${BENCH_MIN_TIME:-0.1}"
repetitions="${BENCH_REPETITIONS:-7}"

# Repetitions of different benchmarks are interleaved in random order, so a
# burst of load from another process hits a benchmark and its baseline alike.
flags=(
    --benchmark_min_time="$min_time"
    --benchmark_repetitions="$repetitions"
    --benchmark_enable_random_interleaving=true
    --benchmark_out_format=json
)

# run_program NAME [benchmark flags]: runs $build/bench/NAME into $out/NAME.json.
run_program() {
    local prog="$1"; shift
    local exe="$build/bench/$prog"
    [ -x "$exe" ] || { echo "missing $exe: configure with -Dbench=true and build" >&2; exit 1; }
    echo "== running $prog ($repetitions repetitions of ${min_time}s; full output in $out/$prog.txt)"
    local start=$SECONDS
    "$exe" "${flags[@]}" --benchmark_out="$out/$prog.json" "$@" > "$out/$prog.txt" 2>&1 || {
        tail -20 "$out/$prog.txt" >&2
        echo "== $prog failed" >&2
        exit 1
    }
    echo "   done in $((SECONDS - start)) s"
}

jsons=()
for prog in bench_core bench_containers bench_tree bench_champ bench_adaptive; do
    run_program "$prog" "$@"
    jsons+=("$out/$prog.json")
done

echo
python3 "$root/tools/bench_ratios.py" --stat "${BENCH_STAT:-median}" "${jsons[@]}"
echo "(the same run by another statistic: python3 tools/bench_ratios.py --stat min ${jsons[*]})"

echo
if [ -x "$build/bench/bench_peers" ]; then
    run_program bench_peers "$@"
    echo
    python3 "$root/tools/bench_report.py" --md "$out/peers.md" --svg "$out/peers.svg" "$out/bench_peers.json"
else
    echo "== bench_peers was not built (it needs Qt 5 and Abseil; tools/dev bench installs them): no peer report"
fi
