#!/usr/bin/env python3
"""The exported dynamic symbols of libcow.so must be exactly the functions
declared with COW_API in cow.h, and libcow.so must not need libfmt."""
import re
import subprocess
import sys

header, lib = sys.argv[1], sys.argv[2]
text = open(header, encoding="utf-8").read()
declared = set(re.findall(r"COW_API[^;(]*?\b(cow_\w+)\s*\(", text))

nm = subprocess.run(["nm", "-D", "--defined-only", lib], check=True,
                    capture_output=True, text=True).stdout
exported = set()
for line in nm.splitlines():
    parts = line.split()
    if len(parts) == 3 and parts[1] not in ("A",):  # 'A' is the version node
        exported.add(parts[2].split("@")[0])

ok = True
if exported - declared:
    print("exported but not declared in cow.h:", sorted(exported - declared))
    ok = False
if declared - exported:
    print("declared in cow.h but not exported:", sorted(declared - exported))
    ok = False

needed = subprocess.run(["readelf", "-d", lib], check=True, capture_output=True, text=True).stdout
if "libfmt" in needed:
    print("libcow.so must not depend on libfmt (use it header-only)")
    ok = False
if "libcow.so.0" not in needed:
    print("SONAME libcow.so.0 missing")
    ok = False

print(f"{len(declared)} declared, {len(exported)} exported")
sys.exit(0 if ok else 1)
