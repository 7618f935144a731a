"""Timing loop for scripts/bench (standard library only).

Runs each tool over each data set BENCH_RUNS times (after BENCH_WARMUP untimed runs), with
a fresh, empty output folder per run, and reports the median wall time. Tools:
  ours                 dicom-deid [BENCH_OURS_ARGS] --jobs N --out DIR SET
  dicom-anonymization  bench/anon-harness (the crate's default config) --jobs N --out DIR SET
  dicognito            python -m dicognito -q --seed S -o DIR FILES...; it is single-threaded,
                       so with N jobs the files are split into N lists run as N processes
Throughput ratios are ours / other on the same data set and job count (>1: ours faster).
"""

import argparse
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time


def list_files(root):
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            out.append(os.path.join(dirpath, name))
    return out


def count_files(root):
    return sum(len(f) for _, _, f in os.walk(root))


class Tool:
    def __init__(self, name, ok_codes):
        self.name = name
        self.ok_codes = ok_codes

    def run(self, dataset, out, jobs, log):
        """Start the tool and wait; return (seconds, exit codes)."""
        cmds = self.commands(dataset, out, jobs)
        t0 = time.perf_counter()
        procs = [
            subprocess.Popen(c, stdin=subprocess.DEVNULL, stdout=log, stderr=log) for c in cmds
        ]
        codes = [p.wait() for p in procs]
        return time.perf_counter() - t0, codes


class Ours(Tool):
    def __init__(self, binary, extra):
        super().__init__("ours", (0, 1))
        self.binary, self.extra = binary, extra

    def commands(self, ds, out, jobs):
        # the JSON report goes beside the output folder, so that 'written' counts DICOM files only
        report = os.path.join(os.path.dirname(out), "report.json")
        return [[self.binary, *self.extra, "--report", report, "--jobs", str(jobs), "--out", out, ds["dir"]]]


class Anon(Tool):
    def __init__(self, binary):
        super().__init__("dicom-anonymization", (0, 1))
        self.binary = binary

    def commands(self, ds, out, jobs):
        return [[self.binary, "--quiet", "--jobs", str(jobs), "--out", out, ds["dir"]]]


class Dicognito(Tool):
    def __init__(self, python):
        super().__init__("dicognito", (0,))
        self.python = python

    def commands(self, ds, out, jobs):
        base = [self.python, "-m", "dicognito", "-q", "--seed", "bench"]
        if jobs == 1:
            return [base + ["-o", out, ds["dir"]]]
        # balance the lists by size: largest files first, each to the lightest list
        lists = [[0, []] for _ in range(jobs)]
        for size, path in sorted(((os.path.getsize(p), p) for p in ds["files"]), reverse=True):
            lightest = min(lists, key=lambda x: x[0])
            lightest[0] += size
            lightest[1].append(path)
        return [
            base + ["-o", os.path.join(out, f"part{i}"), *paths]
            for i, (_, paths) in enumerate(lists)
            if paths
        ]


def fmt(v, digits=2):
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return str(v)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ours")
    ap.add_argument("--harness")
    ap.add_argument("--python")
    ap.add_argument("--dataset", action="append", default=[], help="NAME=DIR")
    ap.add_argument("--tmp", required=True)
    ap.add_argument("--json", required=True)
    ap.add_argument("--logs", required=True)
    a = ap.parse_args()

    runs = int(os.environ.get("BENCH_RUNS", "5"))
    warmup = int(os.environ.get("BENCH_WARMUP", "1"))
    nproc = os.cpu_count() or 1
    jobs_list = sorted({int(j) for j in os.environ.get("BENCH_JOBS", f"1,{nproc}").split(",") if j})
    only_tools = set(filter(None, os.environ.get("BENCH_TOOLS", "").split(",")))

    tools = []
    if a.ours:
        tools.append(Ours(a.ours, shlex.split(os.environ.get("BENCH_OURS_ARGS", ""))))
    if a.harness:
        tools.append(Anon(a.harness))
    if a.python:
        tools.append(Dicognito(a.python))
    if only_tools:
        tools = [t for t in tools if t.name in only_tools]

    datasets = []
    for spec in a.dataset:
        name, d = spec.split("=", 1)
        files = list_files(d)
        datasets.append({"name": name, "dir": d, "files": files,
                         "bytes": sum(os.path.getsize(p) for p in files)})
    # dicognito gets only the corpus files it can process; the full corpus is for the Rust tools
    skip = {("dicognito", "corpus")}

    load_before = os.getloadavg()[0]
    if load_before > 0.5:
        print(f"WARNING: load average {load_before:.2f} before the runs: other work on this machine "
              "will skew the timings", file=sys.stderr)
    os.makedirs(a.tmp, exist_ok=True)
    os.makedirs(a.logs, exist_ok=True)
    rows = []
    for ds in datasets:
        for p in ds["files"]:  # warm the page cache
            with open(p, "rb") as f:
                while f.read(1 << 20):
                    pass
        for jobs in jobs_list:
            for tool in tools:
                if (tool.name, ds["name"]) in skip:
                    continue
                logpath = os.path.join(a.logs, f"{tool.name}-{ds['name']}-j{jobs}.log")
                times, written, error = [], None, None
                with open(logpath, "w") as log:
                    for i in range(warmup + runs):
                        tmp = tempfile.mkdtemp(prefix="run-", dir=a.tmp)
                        out = os.path.join(tmp, "out")
                        os.makedirs(out)
                        log.write(f"--- run {i} ({'warm-up' if i < warmup else 'timed'})\n")
                        log.flush()
                        try:
                            secs, codes = tool.run(ds, out, jobs, log)
                        except OSError as e:
                            secs, codes = 0.0, [f"{e}"]
                        if written is None:
                            written = count_files(out)
                        shutil.rmtree(tmp, ignore_errors=True)
                        if any(c not in tool.ok_codes for c in codes):
                            error = f"exit status {codes} (see {logpath})"
                            break
                        if i >= warmup:
                            times.append(secs)
                row = {"tool": tool.name, "dataset": ds["name"], "jobs": jobs,
                       "files": len(ds["files"]), "written": written,
                       "mb": ds["bytes"] / 1e6, "runs": times, "error": error}
                if times and not error:
                    med = statistics.median(times)
                    row.update(median_s=med, files_per_s=len(ds["files"]) / med,
                               mb_per_s=ds["bytes"] / 1e6 / med)
                rows.append(row)
                status = error or f"median {row.get('median_s', 0):.3f}s over {len(times)} runs"
                print(f"  {tool.name:20} {ds['name']:11} jobs={jobs}: {status}", file=sys.stderr)

    by_key = {(r["tool"], r["dataset"], r["jobs"]): r for r in rows}
    for r in rows:
        if r["tool"] != "ours" or "median_s" not in r:
            continue
        for other, key in (("dicom-anonymization", "vs_dicom_anonymization"), ("dicognito", "vs_dicognito")):
            o = by_key.get((other, r["dataset"], r["jobs"]))
            if o and "median_s" in o:
                r[key] = o["median_s"] / r["median_s"]

    head = ["tool", "dataset", "jobs", "files", "written", "MB", "median s", "files/s", "MB/s",
            "ours/dicom-anon", "ours/dicognito"]
    table = [head]
    for r in rows:
        table.append([r["tool"], r["dataset"], r["jobs"], r["files"], r["written"], fmt(r["mb"], 1),
                      fmt(r.get("median_s"), 3) if not r["error"] else "FAILED",
                      fmt(r.get("files_per_s"), 1), fmt(r.get("mb_per_s"), 1),
                      fmt(r.get("vs_dicom_anonymization")), fmt(r.get("vs_dicognito"))])
    widths = [max(len(str(row[i])) for row in table) for i in range(len(head))]
    for n, row in enumerate(table):
        print("  ".join(str(c).ljust(w) if i < 2 else str(c).rjust(w) for i, (c, w) in enumerate(zip(row, widths))))
        if n == 0:
            print("  ".join("-" * w for w in widths))
    print(f"\nruns per cell: {runs} (+{warmup} warm-up), median wall time; {nproc} CPUs; "
          f"load average {load_before:.2f} before, {os.getloadavg()[0]:.2f} after; "
          "'written' = output files after one run; ratios are throughput ours/other (>1: ours faster)")

    with open(a.json, "w") as f:
        json.dump({"created": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "runs": runs, "warmup": warmup,
                   "cpus": nproc, "output_under": a.tmp,
                   "loadavg_before": load_before, "loadavg_after": os.getloadavg()[0],
                   "results": rows}, f, indent=1)
    print(f"JSON: {a.json}")
    return 1 if any(r["error"] for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
