"""python -m cnnbook lab: the README's first command opens JupyterLab on the notebooks."""
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request

from cnnbook.commands.lab import NOTEBOOKS, lab_command


def test_command_opens_the_notebooks_folder_and_allows_root_only_for_root():
    as_root = lab_command(euid=0)
    as_user = lab_command(["--no-browser"], euid=1000)
    assert as_root[1:4] == ["-m", "jupyterlab", str(NOTEBOOKS)]
    assert "--allow-root" in as_root
    assert "--allow-root" not in as_user and "--no-browser" in as_user


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_jupyterlab_starts_and_lists_every_notebook(tmp_path):
    port, token = _free_port(), "cnnbook-test-token"
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(tmp_path / "config"), JUPYTER_RUNTIME_DIR=str(tmp_path / "rt"))
    proc = subprocess.Popen([sys.executable, "-m", "cnnbook", "lab", "--", "--no-browser", "--ip", "127.0.0.1",
                             f"--port={port}", f"--IdentityProvider.token={token}"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        listing, deadline = None, time.time() + 90
        while listing is None and time.time() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/contents/?token={token}", timeout=5) as r:
                    listing = json.load(r)
            except OSError:
                time.sleep(0.5)
        assert listing is not None, f"JupyterLab did not answer (exit code {proc.poll()})"
        names = sorted(item["name"] for item in listing["content"])
        assert names == sorted(p.name for p in NOTEBOOKS.glob("*.ipynb"))
        assert names[0] == "00-start-here.ipynb"
    finally:
        proc.terminate()
        proc.wait(timeout=30)
