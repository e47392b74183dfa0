"""``python -m cnnbook lab``: open the workbook in JupyterLab, on the notebooks folder.

The same as ``jupyter lab notebooks/`` from the repository root, from any folder, and also where
learners work as root (lab containers, Docker), which JupyterLab refuses without ``--allow-root``.
Extra arguments go to JupyterLab unchanged (``python -m cnnbook lab --no-browser --port 8890``).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


def add_arguments(parser) -> None:
    parser.add_argument("jupyter_args", nargs="*", metavar="ARG",
                        help="passed on to `jupyter lab` (put them after --, e.g. -- --no-browser)")


def lab_command(extra=(), euid=None) -> list[str]:
    """The ``jupyter lab`` command line that opens the workbook."""
    if not NOTEBOOKS.is_dir():
        raise FileNotFoundError(f"no notebooks folder at {NOTEBOOKS}: run this from a clone of the "
                                "repository, installed with `pip install -r requirements.txt`")
    euid = os.geteuid() if euid is None and hasattr(os, "geteuid") else euid
    cmd = [sys.executable, "-m", "jupyterlab", str(NOTEBOOKS), *extra]
    if euid == 0 and "--allow-root" not in cmd:
        cmd.append("--allow-root")  # JupyterLab refuses root otherwise; lab containers often run as root
    return cmd


def run(args) -> int:
    if shutil.which("jupyter") is None and not _has_jupyterlab():
        print("JupyterLab is not installed here: run `pip install -r requirements.txt`", file=sys.stderr)
        return 1
    try:
        cmd = lab_command(args.jupyter_args)
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print("starting:", " ".join(cmd), flush=True)
    return subprocess.call(cmd)


def _has_jupyterlab() -> bool:
    try:
        import jupyterlab  # noqa: F401
    except ImportError:
        return False
    return True
