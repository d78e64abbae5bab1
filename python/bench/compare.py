"""Two builds of the kvdict package against each other, in one run:
alternating fresh processes (old, new, new, old, ...) each open the
dictionary, make one warm pass over the keys and time one more, for d[key]
and get_many (1,000 keys a call). Medians over --rounds, wall clock and per
CPU second. Run it under the bench lock:

    flock /work/bench.lock /usr/bin/python3 python/bench/compare.py \\
        --old /tmp/base/python --new python --keys r10m/keys.txt --rounds 3 url10m-hix.kvd url10m.kvd

--old/--new are directories holding a built kvdict package (setup.py
build_ext --inplace); --keys a file of keys, one a line (bench.py writes
one to its --workdir).
"""

import argparse
import json
import statistics
import subprocess
import sys

CHILD = r'''
import sys, time, json
sys.path.insert(0, sys.argv[1])
import kvdict
with open(sys.argv[3], "rb") as f:
    keys = f.read().split(b"\n")
d = kvdict.open(sys.argv[2])
def gi(ks):
    for k in ks:
        d[k]
def gm(ks):
    g = d.get_many
    for i in range(0, len(ks), 1000):
        g(ks[i:i + 1000])
out = {}
for name, fn in [("d[key]", gi), ("get_many, 1,000 a call", gm)]:
    fn(keys)
    t, c = time.perf_counter(), time.process_time()
    fn(keys)
    out[name] = (len(keys) / (time.perf_counter() - t), len(keys) / (time.process_time() - c))
print(json.dumps(out))
'''


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--old", required=True)
    ap.add_argument("--new", required=True)
    ap.add_argument("--keys", required=True)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("dicts", nargs="+")
    a = ap.parse_args()
    libs = [("old", a.old), ("new", a.new)]
    res = {}
    for r in range(a.rounds):
        for name, lib in libs if r % 2 == 0 else libs[::-1]:
            for path in a.dicts:
                p = subprocess.run([sys.executable, "-c", CHILD, lib, path, a.keys], capture_output=True, check=True,
                                   text=True)
                for k, v in json.loads(p.stdout).items():
                    res.setdefault((path, k, name), []).append(v)
    print("| dictionary | call | build | lookups/s (wall clock) | per CPU second |")
    print("|---|---|---|---:|---:|")
    for (path, k, name), vs in sorted(res.items()):
        w = statistics.median(v[0] for v in vs)
        c = statistics.median(v[1] for v in vs)
        print(f"| {path} | {k} | {name} | {w / 1e3:,.0f}k | {c / 1e3:,.0f}k |")


if __name__ == "__main__":
    main()
