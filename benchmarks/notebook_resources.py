"""Wall time and peak memory of every notebook, each run top to bottom in a fresh kernel.

The workbook's budgets (NOTEBOOKS.md and the developers' guide): well under a minute on a 2-core CPU,
and never more than 2 GB at the peak. Each notebook runs in its own process with nbclient; the peak
is the kernel's maximum resident set size, read from ``getrusage(RUSAGE_CHILDREN)`` once the kernel
has exited. Nothing is written back to the notebooks.

    python -m benchmarks.notebook_resources                 # every notebook
    python -m benchmarks.notebook_resources notebooks/08-training-a-cnn.ipynb
    python -m benchmarks.notebook_resources --command train # peak of `python -m cnnbook train`, too
    python -m benchmarks.notebook_resources notebooks/ko/00-start-here.ipynb --command book /tmp/book --no-cache

Budgets are reported here, never asserted in the tests (the machines are shared and noisy). Each run has
a timeout (``--timeout``, default 600 s a notebook); a run past it, Ctrl-C or SIGTERM stops the child and
its kernel (``processes.run``), so nothing is left running.
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

from benchmarks import processes

ROOT = Path(__file__).resolve().parents[1]
BUDGET_SECONDS, BUDGET_MB = 60, 2048
TIMEOUT_S = 600  # a notebook or command still running after this is stopped and reported

_CHILD = """
import json, resource, sys, time
import nbformat
from nbclient import NotebookClient
path = sys.argv[1]
nb = nbformat.read(path, as_version=4)
t0 = time.perf_counter()
NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": sys.argv[2]}}).execute()
wall = time.perf_counter() - t0
kernel_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(json.dumps({"wall_s": wall, "kernel_peak_mb": kernel_mb}))
"""


def measure_notebook(path: Path, timeout: float = TIMEOUT_S) -> dict:
    try:
        result = processes.run([sys.executable, "-c", _CHILD, str(path), str(path.parent)], timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"still running after {timeout:g} s: stopped"}
    if result.returncode:
        return {"error": result.stderr.strip().splitlines()[-1] if result.stderr.strip() else "failed"}
    return json.loads(result.stdout.strip().splitlines()[-1])


class TreeMemory:
    """The largest sum of resident memory over a process and everything below it, sampled every 0.2 s while it
    runs: what a command holds at once when it runs children side by side (``book`` runs two kernels). Shared
    pages are counted once per process, so the sum is an upper bound."""

    def __init__(self):
        self.peak_mb, self._thread = 0.0, None

    def watch(self, proc) -> None:
        self._thread = threading.Thread(target=self._sample, args=(proc,), daemon=True)
        self._thread.start()

    def _sample(self, proc) -> None:
        import psutil
        try:
            root = psutil.Process(proc.pid)
        except psutil.NoSuchProcess:
            return
        while proc.poll() is None:
            total = 0
            try:
                family = [root, *root.children(recursive=True)]
            except psutil.NoSuchProcess:
                break
            for p in family:
                try:
                    total += p.memory_info().rss
                except psutil.NoSuchProcess:
                    pass
            self.peak_mb = max(self.peak_mb, total / 2**20)
            time.sleep(0.2)


def measure_command(args: list[str], timeout: float = TIMEOUT_S) -> dict:
    t0 = time.perf_counter()
    tree = TreeMemory()
    try:
        result = processes.run([sys.executable, "-m", "cnnbook", *args], timeout, on_start=tree.watch)
    except subprocess.TimeoutExpired:
        return {"wall_s": time.perf_counter() - t0, "peak_mb": float("nan"), "tree_peak_mb": tree.peak_mb,
                "exit": "timeout", "last_lines": [f"still running after {timeout:g} s: stopped"]}
    wall = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # includes earlier children: an upper bound
    return {"wall_s": wall, "peak_mb": peak, "tree_peak_mb": tree.peak_mb, "exit": result.returncode,
            "last_lines": result.stdout.strip().splitlines()[-2:]}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.notebook_resources",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--command", nargs=argparse.REMAINDER, default=None,
                        help="also measure `python -m cnnbook COMMAND ...` (give it last)")
    parser.add_argument("--timeout", type=float, default=TIMEOUT_S,
                        help=f"seconds each notebook or the command may run (default {TIMEOUT_S})")
    args = parser.parse_args(argv)
    with processes.sigterm_stops():
        return _measure(args)


def _measure(args) -> int:
    paths = args.notebooks or sorted((ROOT / "notebooks").glob("*.ipynb"))
    print(f"{'notebook':<42} {'wall s':>8} {'peak MB':>8}  within budget")
    worst = 0
    for path in paths:
        r = measure_notebook(path, args.timeout)
        if "error" in r:
            print(f"{path.name:<42} failed: {r['error']}")
            worst = 1
            continue
        ok = r["wall_s"] < BUDGET_SECONDS and r["kernel_peak_mb"] < BUDGET_MB
        print(f"{path.name:<42} {r['wall_s']:8.1f} {r['kernel_peak_mb']:8.0f}  {'yes' if ok else 'NO'}")
    if args.command:
        r = measure_command(args.command, args.timeout)
        print(f"python -m cnnbook {' '.join(args.command)}: exit {r['exit']}, {r['wall_s']:.1f} s, "
              f"largest process <= {r['peak_mb']:.0f} MB, all its processes at once <= {r['tree_peak_mb']:.0f} MB; "
              f"{' | '.join(r['last_lines'])}")
    return worst


if __name__ == "__main__":
    raise SystemExit(main())
