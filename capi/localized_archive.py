#!/usr/bin/env python3
"""Builds the installed static libcow.a from the archive of all library objects.

Hidden visibility keeps the core's C++ symbols out of libcow.so, but a static
archive ignores visibility: every internal function would stay global and
could clash with a user's own symbols (libcow's C++ namespace is the one
cow.hpp uses, and fmt's inline data would merge with a user's fmt). So the
objects are linked into one relocatable object (ld -r) in which every defined
symbol but the cow_* API is made local (objcopy), and the result is checked:
it defines no other global symbol. (A relocatable link cannot take LTO
objects: meson.build refuses b_lto for the static library.)

usage: localized_archive.py LD OBJCOPY AR NM INPUT.a OUTPUT.a
"""
import os
import subprocess
import sys
import tempfile

ld, objcopy, ar, nm, archive, output = sys.argv[1:7]


def run(*cmd):
    subprocess.run(cmd, check=True)


with tempfile.TemporaryDirectory() as tmp:
    merged = os.path.join(tmp, "libcow.o")
    run(ld, "-r", "-o", merged, "--whole-archive", archive, "--no-whole-archive")
    # ld -r has already merged libcow's own duplicate inline functions, so
    # the COMDAT groups can go: kept, a user's copy of the same group (an
    # inline std:: function) would make the linker drop libcow's copy, which
    # its now local symbols still point to.
    run(objcopy, "--remove-section=.group", merged)
    run(objcopy, "--wildcard", "--keep-global-symbol=cow_*", merged)

    symbols = subprocess.run([nm, "--defined-only", "--extern-only", merged],
                             check=True, capture_output=True, text=True).stdout
    leaked = []
    for line in symbols.splitlines():
        _, kind, name = line.split(maxsplit=2)
        if name.startswith("cow_"):
            continue
        leaked.append(f"{kind} {name}")
    if leaked:
        sys.exit("libcow.a would export internal symbols:\n  " + "\n  ".join(leaked))

    if os.path.exists(output):
        os.remove(output)
    run(ar, "rcsD", output, merged)
