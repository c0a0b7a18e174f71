#!/usr/bin/env python3
"""Compares two builds' benchmarks, run interleaved in one session.

Each round runs the baseline's and the candidate's benchmark program one after
the other (the order alternates between rounds), so both see the same machine
load. Within one program run, each libcow benchmark is divided by its std
baseline from the same run; the builds are compared on those ratios, never on
raw times. A measure counts as slower when the candidate's median ratio is
more than 5% above the baseline's and the two spreads (min..max over the
rounds) do not overlap.

usage: tools/bench_compare.py [--rounds N] [--program NAME] BASE_BUILD CANDIDATE_BUILD \
           [COW_BENCHMARK:BASELINE_BENCHMARK ...]
Without pairs it compares the flat vector paths (get, push, span iteration).
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile

DEFAULT_PAIRS = [
    f"BM_vec_{what}_cow/{n}:BM_vec_{what}_std/{n}"
    for what in ("get", "chase", "push", "iterate")
    for n in (1000, 1000000)
]


def run_once(build, program, names, min_time):
    exe = os.path.join(build, "bench", program)
    pattern = "^(" + "|".join(re.escape(n) for n in names) + ")$"
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        subprocess.run([exe, f"--benchmark_filter={pattern}", f"--benchmark_min_time={min_time}",
                        "--benchmark_out_format=json", f"--benchmark_out={out.name}"],
                       check=True, stdout=subprocess.DEVNULL)
        runs = json.load(open(out.name))["benchmarks"]
    return {r["name"]: r["real_time"] for r in runs if r.get("run_type") == "iteration"}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--min-time", default="0.1")
    ap.add_argument("--program", default="bench_containers")
    ap.add_argument("base")
    ap.add_argument("candidate")
    ap.add_argument("pairs", nargs="*")
    args = ap.parse_args()
    # "COW:BASELINE", split at the colon before the baseline's "BM_" (names
    # such as BM_map_get_cow<std::string> hold colons of their own).
    pairs = [tuple(p.split(":BM_", 1)) for p in (args.pairs or DEFAULT_PAIRS)]
    pairs = [(cow, "BM_" + base) for cow, base in pairs]
    names = sorted({n for p in pairs for n in p})

    ratios = {b: {p: [] for p in pairs} for b in ("base", "candidate")}
    builds = {"base": args.base, "candidate": args.candidate}
    for r in range(args.rounds):
        order = ("base", "candidate") if r % 2 == 0 else ("candidate", "base")
        for b in order:
            times = run_once(builds[b], args.program, names, args.min_time)
            for cow, std in pairs:
                if cow not in times or std not in times:
                    sys.exit(f"{builds[b]}: {cow} or {std} did not run")
                ratios[b][(cow, std)].append(times[cow] / times[std])
        print(f"round {r + 1}/{args.rounds} done", file=sys.stderr)

    print(f"{'measure (libcow / std, same run)':44} {'baseline median [min..max]':28} "
          f"{'candidate median [min..max]':28} {'change':>7}  verdict")
    slower = 0
    for p in pairs:
        b, c = ratios["base"][p], ratios["candidate"][p]
        mb, mc = statistics.median(b), statistics.median(c)
        change = (mc / mb - 1) * 100
        verdict = "same"
        if change > 5 and min(c) > max(b):
            verdict = "SLOWER"
            slower += 1
        elif change < -5 and max(c) < min(b):
            verdict = "faster"
        print(f"{p[0]:44} {mb:7.3f} [{min(b):.3f}..{max(b):.3f}]{'':6} "
              f"{mc:7.3f} [{min(c):.3f}..{max(c):.3f}]{'':6} {change:+6.1f}%  {verdict}")
    print(f"{args.rounds} interleaved rounds; {slower} measure(s) slower beyond 5% outside both spreads")
    return 1 if slower else 0


if __name__ == "__main__":
    sys.exit(main())
