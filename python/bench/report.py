"""Render bench.py's JSON results as the markdown tables of
docs/BENCHMARKS.md ("From Python").

    /usr/bin/python3 python/bench/report.py r10m/result.json r1m/result.json
"""

import json
import sys


def k(x):
    return f"{x / 1e3:,.0f}k" if x < 1e6 else f"{x / 1e6:,.2f}M"


def main():
    for path in sys.argv[1:]:
        r = json.load(open(path))
        print(f"\n**{r['keys']:,} keys** ({r['dict']}, {r['dict_size_mib']:.0f} MiB; "
              f"{r['lookups']:,} lookup keys; {r['date']}; load average "
              f"{r['loadavg_start'][0]:.1f} at start, {r['loadavg_end'][0]:.1f} at end)\n")
        cpu = r.get("one_process_cpu", {})
        if r["one_process"]:
            print("| one process, warm | lookups/s (wall clock) | per CPU second |")
            print("|---|---:|---:|")
            for name, v in r["one_process"].items():
                c = cpu.get(name)
                print(f"| {name} | {k(v)} | {k(c) if c else '-'} |")
            print()
        print(f"| {r['workers']} worker processes (fork, opened once in the parent) | lookups/s, all workers "
              "| first pass (page tables cold) | sum of PSS | of which the data files |")
        print("|---|---:|---:|---:|---:|")
        for name, v in r["workers_32"].items():
            first = k(v["first_pass_per_s"]) if "first_pass_per_s" in v else "-"
            print(f"| {name} | {k(v['lookups_per_s'])} | {first} | {v['pss_total_mib']:,.0f} MiB "
                  f"| {v['pss_data_mib']:,.0f} MiB |")
        extra = []
        if "python_dict" in r:
            p = r["python_dict"]
            extra.append(f"Python dict: loaded in {p['load_s']:.1f} s, {p['rss_mib']:,.0f} MiB of RSS per process "
                         f"(x{r['workers']} = {p['rss_mib'] * r['workers'] / 1024:,.1f} GiB)")
        for name in ("dbm_ndbm", "sqlite3"):
            if name in r:
                extra.append(f"{name}: {r[name]['size_mib']:,.0f} MiB on disk")
        for label in ("kvdict size_mib", "kvdict hash index size_mib"):
            if label in r:
                extra.append(f"{label.replace(' size_mib', '')}: {r[label]:,.0f} MiB on disk")
        if extra:
            print()
            for e in extra:
                print(f"- {e}")


if __name__ == "__main__":
    main()
