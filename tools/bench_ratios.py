#!/usr/bin/env python3
"""Prints the ratio table of libcow's performance targets from the JSON
output (--benchmark_out_format=json) of the benchmark programs in bench/.

Every ratio compares two benchmarks of the same run. A benchmark that is
missing (e.g. filtered out) or reported an error shows as "skipped". Usage: bench_ratios.py [--stat median|min] FILE.json...
"""
import argparse
import json
import statistics
import sys

UNIT_NS = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}


def load(paths):
    """name -> {"times": [ns per iteration...], "counters": {...}, "error": str|None}"""
    runs, context = {}, None
    for path in paths:
        with open(path) as f:
            text = f.read()
        if not text.strip():
            continue  # a filter matched nothing in that program
        data = json.loads(text)
        context = context or data.get("context", {})
        for b in data.get("benchmarks", []):
            if b.get("run_type") == "aggregate":
                continue
            name = b.get("run_name", b["name"])
            entry = runs.setdefault(name, {"times": [], "counters": {}, "error": None,
                                           "threads": b.get("threads", 1)})
            if b.get("error_occurred"):
                entry["error"] = b.get("error_message", "error")
                continue
            # Threaded runs use wall time; single-threaded ones CPU time, which
            # is less disturbed by other processes on a shared machine. Runs
            # with manual time report the time they measured themselves in
            # real_time (bench_adaptive's workloads 1, wall time, and 3, the
            # thread's CPU time).
            key = "real_time" if "real_time" in name or "manual_time" in name else "cpu_time"
            entry["times"].append(b[key] * UNIT_NS[b.get("time_unit", "ns")])
            for k in ("bytes_per_entry", "heap_bytes_per_entry"):
                if k in b:
                    entry["counters"][k] = b[k]
    return runs, context


class Table:
    def __init__(self, runs, stat):
        self.runs, self.stat, self.rows, self.missed = runs, stat, [], []

    def time(self, name):
        r = self.runs.get(name)
        if not r or r["error"] or not r["times"]:
            return None
        return statistics.median(r["times"]) if self.stat == "median" else min(r["times"])

    def why_skipped(self, *names):
        for n in names:
            r = self.runs.get(n)
            if r is None:
                return "not run"
            if r["error"]:
                return r["error"]
        return "no data"

    def add(self, label, cow, base, target, minus=None, per_thread=1):
        """cow and base are benchmark names; minus is subtracted from cow."""
        t_cow, t_base = self.time(cow), self.time(base)
        t_minus = self.time(minus) if minus else 0.0
        if t_cow is None or t_base is None or t_minus is None:
            self.rows.append((label, "-", "-", "-", fmt_target(target),
                              "skipped: " + self.why_skipped(cow, base, *( [minus] if minus else []))))
            return
        own = (t_cow - t_minus) * per_thread
        base_t = t_base * per_thread
        ratio = own / base_t
        verdict = "info"
        if target is not None:
            verdict = "ok" if ratio <= target else "MISSED"
            if verdict == "MISSED":
                self.missed.append(label)
        self.rows.append((label, fmt_ns(own), fmt_ns(base_t), f"{ratio:.2f}x", fmt_target(target),
                          verdict))

    def add_memory(self, label, cow, base, counter):
        rc, rb = self.runs.get(cow), self.runs.get(base)
        if not rc or not rb or rc["error"] or rb["error"] or counter not in rc["counters"]:
            self.rows.append((label, "-", "-", "-", "-", "skipped: " + self.why_skipped(cow, base)))
            return
        c, b = rc["counters"][counter], rb["counters"][counter]
        self.rows.append((label, f"{c:.1f} B", f"{b:.1f} B", f"{c / b:.2f}x", "-", "info"))

    def add_strategies(self, label, names, target, notes=None):
        """names: strategy -> benchmark name. One row per strategy: its time
        against the best of them all; ADAPTIVE's verdict compares it with the
        better of LAZY and STRUCTURAL (target: at most that many times it)."""
        times = {s: self.time(n) for s, n in names.items()}
        known = [t for t in times.values() if t is not None]
        best = min(known) if known else None
        for s, n in names.items():
            row_label = f"{label}: {s}{(notes or {}).get(s, '')}"
            t = times[s]
            if t is None:
                self.rows.append((row_label, "-", "-", "-", "-", "skipped: " + self.why_skipped(n)))
                continue
            target_text, verdict = "-", "info"
            if s == "ADAPTIVE":
                others = [times[o] for o in ("LAZY", "STRUCTURAL") if times.get(o) is not None]
                target_text = f"<= {target}x L/S"
                if len(others) < 2:
                    verdict = "info: no LAZY/STRUCTURAL figure"
                else:
                    vs = t / min(others)
                    verdict = f"ok ({vs:.2f}x L/S)" if vs <= target else f"MISSED ({vs:.2f}x L/S)"
                    if vs > target:
                        self.missed.append(row_label)
            self.rows.append((row_label, fmt_ns(t), fmt_ns(best), f"{t / best:.2f}x", target_text,
                              verdict))

    def section(self, title):
        self.rows.append((title,))

    def print(self):
        head = ("benchmark", "libcow", "baseline", "ratio", "target", "verdict")
        widths = [max(len(str(r[i])) for r in self.rows + [head] if len(r) > 1) for i in range(6)]
        line = "  ".join("{:<%d}" % w for w in widths)
        print(line.format(*head))
        print("  ".join("-" * w for w in widths))
        for r in self.rows:
            if len(r) == 1:
                print(f"-- {r[0]}")
            else:
                print(line.format(*r))


def fmt_ns(ns):
    if ns >= 1e6:
        return f"{ns / 1e6:.2f} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.2f} us"
    return f"{ns:.2f} ns"


def fmt_target(t):
    return "-" if t is None else f"<= {t}x"


def build(table):
    t = table
    t.section("clone + release of a shared cow_buf vs atomic fetch_add + fetch_sub")
    t.add("clone+release, stats on", "BM_clone_release/stats_on", "BM_atomic_pair", 1.5)
    t.add("clone+release, stats off", "BM_clone_release/stats_off", "BM_atomic_pair", 1.2)
    # Threaded runs report wall time / iterations of all threads: times 2 gives
    # the time of one pair as each thread sees it.
    t.add("2 threads, one value, stats on (per thread)",
          "BM_clone_release/stats_on/real_time/threads:2",
          "BM_atomic_pair/real_time/threads:2", 1.5, per_thread=2)
    t.add("2 threads, one value, stats off (per thread)",
          "BM_clone_release/stats_off/real_time/threads:2",
          "BM_atomic_pair/real_time/threads:2", 1.2, per_thread=2)
    t.section("write to an unshared cow_buf (make_mut) vs cow_is_shared")
    t.add("cow_buf_make_mut, unique", "BM_unique_make_mut", "BM_is_shared", 2.0)
    t.section("first write to a shared buffer (minus clone+release) vs malloc+memcpy+free")
    sizes = ((64, "64 B", None), (1024, "1 KiB", 1.5), (4096, "4 KiB", None), (1048576, "1 MiB", 1.1))
    for size, label, target in sizes:
        t.add(f"{label} warm", f"BM_first_write/stats_on/{size}", f"BM_malloc_memcpy_free/{size}",
              target, minus=f"BM_clone_release_buf/{size}")
    for size, label, _ in sizes:
        t.add(f"{label} warm, stats off", f"BM_first_write/stats_off/{size}",
              f"BM_malloc_memcpy_free/{size}", None, minus=f"BM_clone_release_buf/{size}")
    # What the lineage's statistics add to a first write (joining and
    # leaving its registry), as the ratio of the whole write on to off.
    for size, label, _ in sizes:
        t.add(f"{label}: stats on vs off", f"BM_first_write/stats_on/{size}",
              f"BM_first_write/stats_off/{size}", None)
    # Not libcow: what one block of header + 1 KiB + NUL would cost (glibc's
    # thread cache stops at 1032 bytes) against the 1 KiB baseline.
    t.add("malloc+memcpy+free 1145 B vs 1 KiB", "BM_malloc_memcpy_free/1145",
          "BM_malloc_memcpy_free/1024", None)
    for size, label in ((1024, "1 KiB"), (1048576, "1 MiB")):
        t.add(f"{label} cold (fresh pages)", f"BM_first_write_cold/{size}",
              f"BM_alloc_memcpy_cold/{size}", None, minus=f"BM_clone_release_buf/{size}")

    t.section("map lookup (1,000 lookups) vs std::unordered_map, same keys and order")
    for key, label in (("std::uint64_t", "u64"), ("std::string", "string")):
        for n, nlabel in ((1000, "1,000"), (1000000, "1,000,000")):
            t.add(f"{label} keys, {nlabel} entries", f"BM_map_get_cow<{key}>/{n}",
                  f"BM_map_get_std<{key}>/{n}", 1.3)
    t.add("write to a shared map, 1,000 string keys, vs copying std::unordered_map",
          "BM_map_shared_write_cow<std::string>/1000", "BM_map_copy_std<std::string>/1000", 0.5)
    t.section("vectors of u64 vs std::vector")
    for n, nlabel in ((1000, "1,000"), (1000000, "1,000,000")):
        t.add(f"cow_vec_get, shuffled indices, {nlabel}", f"BM_vec_get_cow/{n}",
              f"BM_vec_get_std/{n}", 3.0)
    for n, nlabel in ((1000, "1,000"), (1000000, "1,000,000")):
        t.add(f"cow_vec_get, dependent chain, {nlabel}", f"BM_vec_chase_cow/{n}",
              f"BM_vec_chase_std/{n}", 3.0)
    for n, nlabel in ((1000, "1,000"), (1000000, "1,000,000")):
        t.add(f"span iteration + sum, {nlabel}", f"BM_vec_iterate_cow/{n}",
              f"BM_vec_iterate_std/{n}", 1.1)
    for n, nlabel in ((1000, "1,000"), (1000000, "1,000,000")):
        t.add(f"extend by {nlabel} (storage kept)", f"BM_vec_extend_cow/{n}",
              f"BM_vec_extend_std/{n}", 1.2)
    for n, nlabel in ((1000, "1,000"), (1000000, "1,000,000")):
        t.add(f"push {nlabel} one by one (storage kept)", f"BM_vec_push_cow/{n}",
              f"BM_vec_push_std/{n}", None)
    t.add("push 1,000,000: cost over std push_back, in cow_version() calls", "BM_vec_push_cow/1000000",
          "BM_version_call/1000000", 1.5, minus="BM_vec_push_std/1000000")
    t.section("tree vectors (STRUCTURAL), 1,000,000 u64")
    n = 1000000
    t.add("one set on a shared vector, in atomic pairs", f"BM_tree_shared_set/{n}",
          "BM_tree_atomic_pair", 90)
    t.add("random get vs the flat get", f"BM_tree_get<COW_STRATEGY_STRUCTURAL>/{n}",
          f"BM_tree_get<COW_STRATEGY_LAZY>/{n}", 2.5)
    t.add("span iteration vs std::vector", f"BM_tree_iterate/{n}", f"BM_tree_iterate_std/{n}", 1.2)
    t.add("build by push vs the flat push", f"BM_tree_push_build<COW_STRATEGY_STRUCTURAL>/{n}",
          f"BM_tree_push_build<COW_STRATEGY_LAZY>/{n}", 2.0)
    t.add("build by extend vs std::vector::insert", f"BM_tree_extend/{n}",
          f"BM_tree_extend_std/{n}", 1.5)
    t.add("slice (half, cut leaves), in atomic pairs", f"BM_tree_slice/{n}", "BM_tree_atomic_pair", 400)
    t.add("concat of two, in atomic pairs", f"BM_tree_concat/{n}", "BM_tree_atomic_pair", 400)
    t.add("diff of versions one set apart, in atomic pairs", f"BM_tree_diff_one_set/{n}",
          "BM_tree_atomic_pair", None)
    t.section("tree maps (STRUCTURAL) vs the flat map (LAZY) of the same run")
    t.add("insert into a shared 1,000,000 u64 map, in atomic pairs",
          f"BM_champ_shared_insert<std::uint64_t, COW_STRATEGY_STRUCTURAL>/{n}", "BM_champ_atomic_pair", 110)
    t.add("the same with string keys vs u64 keys",
          f"BM_champ_shared_insert<std::string, COW_STRATEGY_STRUCTURAL>/{n}",
          f"BM_champ_shared_insert<std::uint64_t, COW_STRATEGY_STRUCTURAL>/{n}", 1.3)
    for key in ("std::uint64_t", "std::string"):
        for size, label in ((1000, "1,000"), (n, "1,000,000")):
            t.add(f"lookup, {key} keys, {label} entries, vs flat",
                  f"BM_champ_get<{key}, COW_STRATEGY_STRUCTURAL>/{size}",
                  f"BM_champ_get<{key}, COW_STRATEGY_LAZY>/{size}", 1.5 if size == 1000 else 2.5)
    t.add("build by 1,000,000 inserts vs flat", f"BM_champ_build<COW_STRATEGY_STRUCTURAL>/{n}",
          f"BM_champ_build<COW_STRATEGY_LAZY>/{n}", 2.0)
    t.add("diff of versions 10 keys apart vs 1,000 lookups", f"BM_champ_diff_ten/{n}",
          f"BM_champ_get<std::uint64_t, COW_STRATEGY_STRUCTURAL>/{n}", 1.0)
    t.add_memory("bytes / entry at 1,000,000 u64 -> u64 (tree vs flat; gate 1.3x)",
                 f"BM_champ_build<COW_STRATEGY_STRUCTURAL>/{n}", f"BM_champ_build<COW_STRATEGY_LAZY>/{n}",
                 "bytes_per_entry")
    t.section("map memory per entry, 1,000,000 u64 -> u64 (libcow vs std::unordered_map)")
    t.add_memory("requested bytes / entry", "BM_map_memory_cow/iterations:1/repeats:1",
                 "BM_map_memory_std/iterations:1/repeats:1", "bytes_per_entry")
    t.add_memory("heap bytes / entry (mallinfo2)", "BM_map_memory_cow/iterations:1/repeats:1",
                 "BM_map_memory_std/iterations:1/repeats:1", "heap_bytes_per_entry")
    t.add("build time, 1,000,000 inserts", "BM_map_memory_cow/iterations:1/repeats:1",
          "BM_map_memory_std/iterations:1/repeats:1", None)
    t.section("ADAPTIVE workloads: each strategy vs the best of LAZY, STRUCTURAL, ADAPTIVE "
              "(flag: ADAPTIVE over 1.2x the better of LAZY/STRUCTURAL)")
    # Workload 3 under LAZY runs 100 of the 10,000 rounds: its figure is
    # computed from the measured per-round cost (see bench_adaptive.cpp).
    workloads = (
        ("read-heavy 1,000,000 (wall, from creation)", "BM_adaptive_read_heavy", "/iterations:1/manual_time", ""),
        ("small 100, 100,000 versions", "BM_adaptive_small_writes", "", ""),
        ("large 1,000,000, 10,000 versions", "BM_adaptive_large_writes", "/iterations:1/manual_time",
         " (computed from 100 rounds)"),
    )
    for label, bench, suffix, lazy_note in workloads:
        for kind in ("vec", "map"):
            names = {s: f"{bench}<{kind}, COW_STRATEGY_{s}>{suffix}"
                     for s in ("LAZY", "STRUCTURAL", "ADAPTIVE")}
            t.add_strategies(f"{label}, {kind}", names, 1.2, notes={"LAZY": lazy_note})


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--stat", choices=("median", "min"), default="median",
                    help="statistic over the repetitions (default: median)")
    ap.add_argument("files", nargs="+")
    args = ap.parse_args()
    runs, context = load(args.files)
    table = Table(runs, args.stat)
    build(table)
    reps = max((len(r["times"]) for r in runs.values()), default=0)
    load_avg = context.get("load_avg", [])
    print(f"libcow benchmark ratios: {args.stat} of up to {reps} repetitions per benchmark, "
          f"{context.get('num_cpus', '?')} CPUs, load average "
          f"{', '.join(f'{x:.2f}' for x in load_avg) or '?'} at start")
    table.print()
    if table.missed:
        print(f"== {len(table.missed)} target(s) missed: " + "; ".join(table.missed))
    else:
        print("== every measured target met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
