#!/usr/bin/env python3
"""cow.h, the version script and the built libraries agree on the API.

- Every function declared with COW_API in cow.h is listed in exactly one
  node of capi/libcow.map, by name (no wildcard), and nothing else is listed.
- A function whose comment says "since 0.2" is in node LIBCOW_0.2; every
  other one is in LIBCOW_0 (the 0.1 API).
- libcow.so exports exactly those functions, each under its node's version,
  has SONAME libcow.so.0 and does not need libfmt.
- libcow.a defines exactly those functions as global symbols.

usage: check_symbols.py cow.h libcow.map LIBRARY...
"""
import re
import subprocess
import sys

header, script, libraries = sys.argv[1], sys.argv[2], sys.argv[3:]
failures = []


def declared_functions(text):
    """{name: node it belongs in}, from the COW_API declarations and the
    comment right above each (the last one after the previous declaration)."""
    found = {}
    start = 0
    for m in re.finditer(r"COW_API[^;(]*?\b(cow_\w+)\s*\(", text):
        before = text[start:m.start()]
        comment = before[before.rfind("/*"):] if "/*" in before else ""
        new = re.search(r"\bsince 0\.2\b", comment, flags=re.I)
        found[m.group(1)] = "LIBCOW_0.2" if new else "LIBCOW_0"
        start = text.index(";", m.end()) + 1
    return found


def script_nodes(text):
    """{node: [names]}; fails on wildcards in a global section."""
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    nodes = {}
    for m in re.finditer(r"([\w.]+)\s*\{(.*?)\}\s*([\w.]*)\s*;", text, flags=re.S):
        node, body = m.group(1), m.group(2)
        global_part = re.split(r"\blocal\s*:", body)[0]
        global_part = re.sub(r"\bglobal\s*:", "", global_part)
        names = [n.strip() for n in global_part.split(";") if n.strip()]
        for n in names:
            if not re.fullmatch(r"cow_\w+", n):
                failures.append(f"{script}: node {node} lists '{n}' (not a function name)")
        nodes[node] = names
    return nodes


declared = declared_functions(open(header, encoding="utf-8").read())
nodes = script_nodes(open(script, encoding="utf-8").read())

listed = {}
for node, names in nodes.items():
    for n in names:
        if n in listed:
            failures.append(f"{n} is listed in both {listed[n]} and {node}")
        listed[n] = node
for n, node in sorted(declared.items()):
    if n not in listed:
        failures.append(f"{n} is declared in cow.h but not listed in {script}")
    elif listed[n] != node:
        failures.append(f"{n} belongs in {node} (its comment) but is listed in {listed[n]}")
for n in sorted(set(listed) - set(declared)):
    failures.append(f"{n} is listed in {script} but not declared in cow.h")


def run(*cmd):
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


for lib in libraries:
    if lib.endswith(".a"):
        exported = set()
        for line in run("nm", "--defined-only", "--extern-only", lib).splitlines():
            parts = line.split()
            if len(parts) == 3:
                exported.add(parts[2])
        for n in sorted(exported - set(declared)):
            failures.append(f"{lib} defines the global symbol {n}, which is not in cow.h")
        for n in sorted(set(declared) - exported):
            failures.append(f"{lib} does not define {n}")
        continue
    exported = {}
    for line in run("nm", "-D", "--defined-only", "--with-symbol-versions", lib).splitlines():
        parts = line.split()
        if len(parts) != 3 or parts[1] == "A":  # 'A' is a version node itself
            continue
        name, _, version = parts[2].partition("@@")
        exported[name] = version
    for n in sorted(set(exported) - set(declared)):
        failures.append(f"{lib} exports {n}, which is not in cow.h")
    for n in sorted(set(declared) - set(exported)):
        failures.append(f"{lib} does not export {n}")
    for n in sorted(set(declared) & set(exported)):
        if exported[n] != declared[n]:
            failures.append(f"{lib} exports {n} as {n}@@{exported[n]}, expected @@{declared[n]}")
    dynamic = run("readelf", "-d", lib)
    if "libfmt" in dynamic:
        failures.append(f"{lib} depends on libfmt (use fmt header-only)")
    if "[libcow.so.0]" not in dynamic:
        failures.append(f"{lib} does not have SONAME libcow.so.0")

for f in failures:
    print(f)
per_node = ", ".join(f"{node}: {len(names)}" for node, names in nodes.items())
print(f"{len(declared)} functions declared; version script {per_node}; "
      f"checked {len(libraries)} librar{'y' if len(libraries) == 1 else 'ies'}")
sys.exit(1 if failures else 0)
