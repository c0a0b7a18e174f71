#!/usr/bin/env python3
"""Side-by-side report of libcow against its peers, from the Google Benchmark
JSON of bench/bench_peers (benchmarks named operation/case/implementation).

Prints one table per operation: each implementation's time as a ratio to the
fastest in its row (the medians over the repetitions), with the range of its
repetitions (min-max, divided by the same fastest median). The memory table
uses the bytes per entry that the map builds report. Writes the same tables
as Markdown (--md) and a chart of the ratios as SVG (--svg, drawn by gnuplot).

Usage: bench_report.py [--md OUT.md] [--svg OUT.svg] FILE.json...
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

UNIT_NS = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}

IMPLS = [
    ("libcow", "libcow"),
    ("libcow_tree", "libcow tree"),
    ("qt5", "Qt 5"),
    ("shared_ptr", "shared_ptr"),
    ("absl", "Abseil"),
    ("std", "std"),
]

# (key, title, what one measurement is); map_memory is made from map_build.
OPERATIONS = [
    ("clone_release", "Clone + release",
     "one clone and its release (std and Abseil: a copy and its destruction)"),
    ("first_write", "First write after a clone",
     "clone, write one byte or element, release (std: copy, write, destroy; "
     "shared_ptr: a new copy made for the write)"),
    ("unique_write", "Write to an unshared value",
     "1,000 writes at shuffled positions (libcow: cow_buf_make_mut / cow_vec_set; "
     "shared_ptr: use_count() check, then in place)"),
    ("push", "Push", "1,000,000 pushes into an empty vector, then its release"),
    ("get", "Random get", "1,000 reads at shuffled indexes"),
    ("iterate", "Span iteration", "sum of all elements (libcow: by spans, one loop for all)"),
    ("map_get", "Map lookup", "1,000 lookups of present keys in shuffled order"),
    ("map_shared_write", "Write to a shared map",
     "clone, insert one new key, release (std and Abseil: copy + insert; "
     "shared_ptr: a new copy made for the write)"),
    ("map_build", "Map build", "1,000,000 inserts into an empty map (its release not timed)"),
    ("map_memory", "Memory per map entry",
     "heap bytes per entry of the built map (mallinfo2, malloc's overhead included); "
     "in parentheses: bytes per entry"),
]

CASES = {
    "bytes_64": "bytes, 64 B",
    "bytes_1k": "bytes, 1 KiB",
    "bytes_4k": "bytes, 4 KiB",
    "bytes_1m": "bytes, 1 MiB",
    "vec_64": "vector, 64 B (8 u64)",
    "vec_1k": "vector, 1 KiB (128 u64)",
    "vec_1m": "vector, 1 MiB (131,072 u64)",
    "vec_1000": "vector, 1,000 u64",
    "vec_big": "vector, 1,000,000 u64",
    "map_1000": "map, 1,000 u64 -> u64",
    "u64_1000": "u64 keys, 1,000",
    "u64_big": "u64 keys, 1,000,000",
    "str_1000": "string keys, 1,000",
    "str_big": "string keys, 1,000,000",
}
CASE_ORDER = list(CASES)

IMPL_COLORS = {
    "libcow": "#d62728", "libcow_tree": "#ff7f0e", "qt5": "#2ca02c",
    "shared_ptr": "#9467bd", "absl": "#1f77b4", "std": "#555555",
}
IMPL_POINTS = {"libcow": 7, "libcow_tree": 5, "qt5": 9, "shared_ptr": 11, "absl": 13, "std": 3}


def load(paths):
    """(op, case, impl) -> {"times": [ns...], "bytes": [bytes per entry...], "error": str|None}"""
    runs, context = {}, {}
    for path in paths:
        with open(path) as f:
            text = f.read()
        if not text.strip():
            continue
        data = json.loads(text)
        context = context or data.get("context", {})
        for b in data.get("benchmarks", []):
            if b.get("run_type") == "aggregate":
                continue
            parts = b.get("run_name", b["name"]).split("/")
            if len(parts) < 3:
                continue
            key = tuple(parts[:3])
            entry = runs.setdefault(key, {"times": [], "bytes": [], "error": None})
            if b.get("error_occurred"):
                entry["error"] = b.get("error_message", "error")
                continue
            # CPU time: less disturbed by other processes on a shared machine.
            entry["times"].append(b["cpu_time"] * UNIT_NS[b.get("time_unit", "ns")])
            if "bytes_per_entry" in b:
                entry["bytes"].append(b["bytes_per_entry"])
    return runs, context


def tables(runs):
    """[(op key, title, note, impls present, rows)]; a row is (case, {impl: cell})
    and a cell is (ratio, low, high, absolute median) or None."""
    out = []
    for op, title, note in OPERATIONS:
        source, field = ("map_build", "bytes") if op == "map_memory" else (op, "times")
        cases = sorted({c for (o, c, _) in runs if o == source},
                       key=lambda c: (CASE_ORDER.index(c) if c in CASE_ORDER else len(CASE_ORDER), c))
        rows, present = [], set()
        for case in cases:
            values = {}
            for impl, _ in IMPLS:
                r = runs.get((source, case, impl))
                if r and not r["error"] and r[field]:
                    values[impl] = r[field]
                elif r and r["error"]:
                    print(f"warning: {source}/{case}/{impl}: {r['error']}", file=sys.stderr)
            if not values:
                continue
            best = min(statistics.median(v) for v in values.values())
            cells = {}
            for impl, v in values.items():
                present.add(impl)
                med = statistics.median(v)
                cells[impl] = (med / best, min(v) / best, max(v) / best, med)
            rows.append((case, cells))
        if rows:
            out.append((op, title, note, [i for i, _ in IMPLS if i in present], rows))
    return out


def cell_text(op, cell):
    if cell is None:
        return "-"
    ratio, low, high, med = cell
    if op == "map_memory":
        return f"{ratio:.2f} ({med:.1f} B)"
    return f"{fmt(ratio)} ({fmt(low)}-{fmt(high)})"


def fmt(x):
    if x >= 100:
        return f"{x:,.0f}"
    if x >= 10:
        return f"{x:.1f}"
    return f"{x:.2f}"


def impl_title(impl):
    return dict(IMPLS)[impl]


def print_tables(ts, reps):
    print(f"libcow beside its peers: each time as a multiple of the fastest in its row "
          f"(median of {reps} repetitions; in parentheses the range of the repetitions)")
    for op, title, note, impls, rows in ts:
        print(f"\n{title}: {note}")
        header = ["case"] + [impl_title(i) for i in impls]
        body = [[CASES.get(c, c)] + [cell_text(op, cells.get(i)) for i in impls] for c, cells in rows]
        widths = [max(len(r[k]) for r in [header] + body) for k in range(len(header))]
        for r in [header] + body:
            print("  " + "  ".join(x.ljust(w) if k == 0 else x.rjust(w) for k, (x, w) in enumerate(zip(r, widths))))


def markdown(ts, reps, machine):
    lines = [f"Each time as a multiple of the fastest in its row: the median of {reps} repetitions, "
             "in parentheses the range of the repetitions (their min and max over the same fastest "
             "median). Bold: the fastest. " + machine, ""]
    for op, title, note, impls, rows in ts:
        lines.append(f"**{title}**: {note}.")
        lines.append("")
        lines.append("| | " + " | ".join(impl_title(i) for i in impls) + " |")
        lines.append("|---|" + "---:|" * len(impls))
        for case, cells in rows:
            texts = []
            for i in impls:
                t = cell_text(op, cells.get(i))
                if cells.get(i) and cells[i][0] == 1.0:
                    t = f"**{t}**"
                texts.append(t)
            lines.append(f"| {CASES.get(case, case)} | " + " | ".join(texts) + " |")
        lines.append("")
    return "\n".join(lines)


def machine_line(context):
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    cpus = context.get("num_cpus", os.cpu_count())
    date = context.get("date", "")
    return f"Run of {date} on {cpus} CPUs" + (f" ({model})" if model else "") + "."


def gnuplot_quote(s):
    """A double-quoted gnuplot string (its escapes: backslash, quote, newline)."""
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def chart(ts, reps, svg_path, subtitle):
    """A dot per implementation and row, on a log axis of ratios; a bar from
    the fastest to the slowest repetition."""
    gnuplot = shutil.which("gnuplot")
    if not gnuplot:
        print("warning: gnuplot not found (apt-get install gnuplot-nox): no chart", file=sys.stderr)
        return False
    rows, separators = [], []
    for op, title, _, _, op_rows in ts:
        if rows:
            separators.append(len(rows) - 0.5)
        for case, cells in op_rows:
            rows.append((f"{title}: {CASES.get(case, case)}", op, cells))
    n = len(rows)
    present = [i for i, _ in IMPLS if any(i in cells for _, _, cells in rows)]
    spread = 0.6 / max(1, len(present))
    highest = max(c[2] for _, _, cells in rows for c in cells.values())
    script = [
        "set terminal svg size 1000,%d dynamic font 'sans,11' background '#ffffff'" % (140 + 34 * n),
        "set termoption noenhanced",
        f"set output {gnuplot_quote(svg_path)}",
        "set title " + gnuplot_quote("libcow beside its peers: time (or memory) as a multiple of the fastest "
                                     "in its row\n" + subtitle),
        "set logscale x 10",
        f"set xrange [0.8:{highest * 2:.6g}]",
        f"set yrange [{n - 0.5}:-0.5]",
        "set xlabel 'multiple of the fastest (log scale); dot: median, bar: range of the repetitions'",
        "set grid xtics mxtics lc rgb '#dddddd'",
        "set key outside top center horizontal",
        "set ytics nomirror font 'sans,10'",
        "set lmargin 44",
        "set ytics (" + ", ".join(f"{gnuplot_quote(label)} {k}" for k, (label, _, _) in enumerate(rows)) + ")",
    ]
    for y in separators:
        script.append(f"set arrow from graph 0, first {y} to graph 1, first {y} nohead lc rgb '#999999' dt 2")
    plots = []
    for j, impl in enumerate(present):
        offset = (j - (len(present) - 1) / 2) * spread
        script.append(f"$d{j} << EOD")
        for k, (_, _, cells) in enumerate(rows):
            if impl in cells:
                ratio, low, high, _ = cells[impl]
                script.append(f"{k + offset:.4f} {ratio:.6g} {low:.6g} {high:.6g}")
        script.append("EOD")
        plots.append(f"$d{j} using 2:1:3:4 with xerrorbars pt {IMPL_POINTS[impl]} ps 0.7 "
                     f"lc rgb '{IMPL_COLORS[impl]}' title {gnuplot_quote(impl_title(impl))}")
    script.append("plot " + ", \\\n     ".join(plots))
    with tempfile.NamedTemporaryFile("w", suffix=".gp", delete=False) as f:
        f.write("\n".join(script) + "\n")
        path = f.name
    try:
        result = subprocess.run([gnuplot, path], capture_output=True, text=True)
    finally:
        os.unlink(path)
    if result.returncode != 0:
        print("warning: gnuplot failed:\n" + result.stderr, file=sys.stderr)
        return False
    return True


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--md", help="write the tables as Markdown to this file")
    ap.add_argument("--svg", help="write a chart of the ratios to this SVG file (gnuplot)")
    ap.add_argument("files", nargs="+", help="Google Benchmark JSON output of bench_peers")
    args = ap.parse_args()

    runs, context = load(args.files)
    if not runs:
        print("no peer benchmarks in the input (a filter matched none?): no report")
        return 0
    reps = max(len(r["times"]) for r in runs.values())
    ts = tables(runs)
    print_tables(ts, reps)
    machine = machine_line(context)
    if args.md:
        with open(args.md, "w") as f:
            f.write(markdown(ts, reps, machine) + "\n")
        print(f"\nMarkdown: {args.md}")
    if args.svg and chart(ts, reps, args.svg, f"median of {reps} repetitions. {machine}"):
        print(f"Chart: {args.svg}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
