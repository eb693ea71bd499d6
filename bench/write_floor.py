#!/usr/bin/env python3
# Copied unchanged (but for this comment) from the kiln team's shared benchmark helpers
# (shared/bench/write_floor.py, the helpers the performance issue names), so that a clone of
# kiln can run bench/run.sh on its own.
"""Physical floor: write the exact bytes of a compiled tree to the same relative
paths, with no templating at all (separates file I/O from rendering cost).

  write_floor.py pack SRC_TREE BLOB     # once, untimed: snapshot (path, bytes) pairs
  write_floor.py write BLOB DEST_TREE   # timed: load blob, mkdir -p + write every file

`write` prints its in-process time for the write loop alone on stderr.
"""
import marshal
import os
import sys
import time


def pack(src, blob):
    items = []
    for root, _dirs, files in os.walk(src):
        for fn in sorted(files):
            p = os.path.join(root, fn)
            with open(p, "rb") as f:
                items.append((os.path.relpath(p, src), f.read()))
    with open(blob, "wb") as f:
        marshal.dump(items, f)
    print(f"packed {len(items)} files, {sum(len(b) for _, b in items)} bytes")


def write(blob, dest):
    with open(blob, "rb") as f:
        items = marshal.load(f)
    t0 = time.perf_counter()
    made = set()
    for rel, data in items:
        d = os.path.dirname(os.path.join(dest, rel))
        if d not in made:
            os.makedirs(d, exist_ok=True)
            made.add(d)
        with open(os.path.join(dest, rel), "wb") as f:
            f.write(data)
    dt = time.perf_counter() - t0
    print(f"write loop: {len(items)} files in {dt:.3f}s", file=sys.stderr)


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] not in ("pack", "write"):
        sys.exit(__doc__)
    {"pack": pack, "write": write}[sys.argv[1]](sys.argv[2], sys.argv[3])
