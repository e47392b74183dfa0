"""What one learner costs on a JupyterHub: memory, CPU time and wall time, for sizing a class.

Runs the same real JupyterHub as the class rehearsal (``tests/hub/rehearsal.py``: jupyterhub, its
configurable-http-proxy, one single-user server per learner, all on 127.0.0.1) and measures, through the
servers' kernel API, with psutil sampling every process's resident memory every 0.2 s:

1. one learner alone running notebook 08 (the heaviest) top to bottom;
2. ``--learners`` (default 4) learners running it at the same time, each on their own server;
3. one learner's whole lab session, notebooks 00-12 in order, each in a fresh kernel that is shut down at the
   end (as "Shut Down Kernel" would); the sum of each kernel's memory at its notebook's end says what a learner
   who never closes a kernel would hold.

Every kernel gets one BLAS/OpenMP thread, as a pod with ``singleuser.cpu.limit: 1`` should
(deploy/z2jh/config.yaml sets the same). Then it prints the per-learner figures and the sizing they imply.
The machine's load average is printed before and after: on a shared machine, the times are noisy.

    python -m benchmarks.bench_hub                    # about 5 minutes on 2 cores
    python -m benchmarks.bench_hub --json hub.json    # also write the raw figures

Needs ``pip install -r requirements-hub.txt`` and ``npm install --prefix .hub-node configurable-http-proxy``.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "hub"))
import rehearsal  # noqa: E402

from benchmarks.harness import load_average  # noqa: E402

NOTEBOOK = "08-training-a-cnn.ipynb"
GIB = 1024


def _run_one(hub: rehearsal.Hub, name: str, notebook: str) -> dict:
    learner = hub.users[name]
    learner.peak_kernels_mb = learner.peak_total_mb = 0.0     # this notebook's peak only
    path = f"cnnbook/{notebook}"
    nb, _ = rehearsal.solve_exercises(hub.read_notebook(name, path), ROOT / "notebooks" / notebook)
    run = hub.run_notebook(name, path, nb)
    time.sleep(2 * hub.sample_every)
    return {"learner": name, "notebook": notebook, "errors": run.errors, "wall_s": run.wall_s,
            "cpu_s": run.kernel_cpu_s, "kernel_end_mb": run.kernel_end_mb,
            "peak_server_mb": learner.peak_server_mb, "peak_kernel_mb": learner.peak_kernels_mb,
            "peak_total_mb": learner.peak_total_mb, "longest_silence_s": run.longest_silence_s}


def _with_hub(names: list[str], work: Path, job):
    with rehearsal.Hub(work, names) as hub:
        for name in names:
            rehearsal.set_up_learner_home(hub.users[name].home)
            hub.log_in(name)
            hub.start_server(name)
        result = job(hub)
        result_hub = {"hub_mb": hub.seen[hub.proc.pid].memory_info().rss / 2**20}
    if hub.leftovers():
        raise RuntimeError(f"processes left running: {hub.leftovers()}")
    return result, result_hub


def measure(learners: int, session: bool, work: Path) -> dict:
    figures = {"load_before": load_average(), "cpus": os.cpu_count()}

    def solo(hub):
        out = {"nb08": _run_one(hub, "solo", NOTEBOOK)}
        if session:
            out["session"] = [_run_one(hub, "solo", p.name) for p in sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))]
        return out

    def crowd(hub):
        with ThreadPoolExecutor(learners) as pool:
            return list(pool.map(lambda n: _run_one(hub, n, NOTEBOOK), hub.learners))

    figures.update(_with_hub(["solo"], work / "solo", solo)[0])
    figures["crowd"], hub_side = _with_hub([f"learner-{i + 1}" for i in range(learners)], work / "crowd", crowd)
    figures.update(hub_side)
    figures["load_after"] = load_average()
    return figures


def _round_up(mb: float, step: int = 128) -> int:
    return int(math.ceil(mb / step) * step)


def sizing(f: dict, node_cpus: float = 8, node_gib: float = 32, reserved_cpus: float = 0.5,
           reserved_gib: float = 2) -> dict:
    """Per-learner requests, and a class's totals, from the measured figures (the assumptions in the guide).

    Nodes: ``node_cpus`` CPUs and ``node_gib`` GiB each, of which ``reserved_*`` go to Kubernetes itself; learners
    are packed by their guarantees (what the scheduler counts), and the hub and proxy get a node of their own.
    """
    runs = [f["nb08"], *f["crowd"], *f.get("session", [])]
    peak_total = max(r["peak_total_mb"] for r in runs)          # server + one kernel, the worst notebook
    peak_server = max(r["peak_server_mb"] for r in runs)
    peak_kernel = max(r["peak_kernel_mb"] for r in runs)
    guarantee_mb = _round_up(1.25 * peak_total)                  # one notebook running, 25 % headroom
    limit_mb = _round_up(peak_server + 2 * peak_kernel)          # two notebooks open at their peaks
    slowdown = (sum(r["wall_s"] for r in f["crowd"]) / len(f["crowd"])) / f["nb08"]["wall_s"]
    cpu_guarantee = round(f["cpus"] / len(f["crowd"]), 2)        # what each got in the measured crowd
    out = {"peak_total_mb": peak_total, "peak_server_mb": peak_server, "peak_kernel_mb": peak_kernel,
           "memory_guarantee_mb": guarantee_mb, "memory_limit_mb": limit_mb, "cpu_guarantee": cpu_guarantee,
           "cpu_limit": 1.0, "slowdown": slowdown, "classes": {}}
    per_node = int(min((node_cpus - reserved_cpus) // cpu_guarantee, (node_gib - reserved_gib) * GIB // guarantee_mb))
    out.update(node=f"{node_cpus:g} CPUs, {node_gib:g} GiB", learners_per_node=per_node)
    for size in (30, 300):
        out["classes"][size] = {"memory_gib": size * guarantee_mb / GIB, "cpus": size * cpu_guarantee,
                                "memory_limit_gib": size * limit_mb / GIB, "user_nodes": math.ceil(size / per_node)}
    return out


def report(f: dict) -> None:
    print(f"load average before: {f['load_before']}, after: {f['load_after']} ({f['cpus']} CPUs)")
    head = f"{'run':<34} {'wall s':>7} {'CPU s':>7} {'server MB':>10} {'kernel MB':>10} {'both MB':>8}"
    print(head)
    rows = [("notebook 08, one learner", f["nb08"])]
    rows += [(f"notebook 08, {r['learner']} of {len(f['crowd'])}", r) for r in f["crowd"]]
    for label, r in rows:
        error = f"  ERROR {r['errors'][0]}" if r["errors"] else ""
        print(f"{label:<34} {r['wall_s']:7.1f} {r['cpu_s']:7.1f} {r['peak_server_mb']:10.0f} "
              f"{r['peak_kernel_mb']:10.0f} {r['peak_total_mb']:8.0f}{error}")
    if "session" in f:
        print("\nlab session, one learner, 00-12 in order (each kernel shut down at its notebook's end):")
        print(f"{'notebook':<40} {'wall s':>7} {'CPU s':>7} {'kernel MB':>10} {'at end MB':>10}")
        for r in f["session"]:
            print(f"{r['notebook']:<40} {r['wall_s']:7.1f} {r['cpu_s']:7.1f} {r['peak_kernel_mb']:10.0f} "
                  f"{r['kernel_end_mb']:10.0f}{'  ERROR ' + r['errors'][0] if r['errors'] else ''}")
        s = f["session"]
        print(f"{'whole session':<40} {sum(r['wall_s'] for r in s):7.1f} {sum(r['cpu_s'] for r in s):7.1f} "
              f"{max(r['peak_kernel_mb'] for r in s):10.0f} {sum(r['kernel_end_mb'] for r in s):10.0f}"
              "  (peak of one; sum if none were shut down)")
    z = sizing(f)
    crowd_wall = sum(r["wall_s"] for r in f["crowd"]) / len(f["crowd"])
    print(f"\n{len(f['crowd'])} at once on {f['cpus']} CPUs: mean wall {crowd_wall:.1f} s against "
          f"{f['nb08']['wall_s']:.1f} s alone, slowdown {z['slowdown']:.2f}x; hub process {f['hub_mb']:.0f} MB")
    silences = [r["longest_silence_s"] for r in [f["nb08"], *f["crowd"]]]
    print(f"longest stretch without a kernel message (notebook 08): {min(silences):.0f}-{max(silences):.0f} s")
    print(f"per learner: singleuser.memory.guarantee {z['memory_guarantee_mb']}M, limit {z['memory_limit_mb']}M; "
          f"singleuser.cpu.guarantee {z['cpu_guarantee']}, limit {z['cpu_limit']}")
    print(f"on nodes of {z['node']}: {z['learners_per_node']} learners per node")
    for size, c in z["classes"].items():
        print(f"class of {size}: {c['memory_gib']:.1f} GiB and {c['cpus']:.0f} CPUs guaranteed "
              f"(memory limits add up to {c['memory_limit_gib']:.1f} GiB): {c['user_nodes']} user nodes")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_hub", description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=4, help="learners running notebook 08 at once (default 4)")
    parser.add_argument("--no-session", action="store_true", help="skip the whole lab session (00-12)")
    parser.add_argument("--json", type=Path, help="also write the raw figures to this file")
    args = parser.parse_args(argv)
    if args.learners < 1:
        raise SystemExit(f"--learners must be at least 1, not {args.learners}")
    with tempfile.TemporaryDirectory(prefix="bench-hub-") as tmp:
        figures = measure(args.learners, not args.no_session, Path(tmp))
    report(figures)
    if args.json:
        args.json.write_text(json.dumps({"figures": figures, "sizing": sizing(figures)}, indent=1) + "\n")
    runs = [figures["nb08"], *figures["crowd"], *figures.get("session", [])]
    return 1 if any(r["errors"] for r in runs) else 0


if __name__ == "__main__":
    sys.exit(main())
