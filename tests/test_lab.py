"""python -m cnnbook lab: the README's first command opens JupyterLab on the learner's working copy, and stops
cleanly."""
import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request

import psutil
import pytest
from process_helpers import check_no_leftovers, descendants, free_port, marked_env, stop_popen

from cnnbook.commands.lab import NOTEBOOKS, lab_command

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module", autouse=True)
def no_process_left_behind():
    """After this module's tests, nothing they started (JupyterLab, kernels) is still running."""
    yield
    check_no_leftovers()


def test_command_opens_the_notebooks_folder_and_allows_root_only_for_root():
    as_root = lab_command(euid=0)
    as_user = lab_command(["--no-browser"], euid=1000)
    assert as_root[1:4] == ["-m", "jupyterlab", str(NOTEBOOKS)]
    assert "--allow-root" in as_root
    assert "--allow-root" not in as_user and "--no-browser" in as_user


def _api(base, token, path, data=None, timeout=5):
    request = urllib.request.Request(f"{base}{path}", method="GET" if data is None else "POST",
                                     data=None if data is None else json.dumps(data).encode(),
                                     headers={"Authorization": f"token {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as r:
        return json.load(r)


@contextlib.contextmanager
def running_lab(tmp_path):
    """``(proc, base_url, token, runtime_dir)`` of ``python -m cnnbook lab`` on a free port with a random token.

    The process runs in its own session; whatever happens, it and everything below it are stopped at the end.
    """
    port, token = free_port(), secrets.token_hex(16)
    runtime = tmp_path / "runtime"
    env = marked_env(JUPYTER_CONFIG_DIR=str(tmp_path / "config"), JUPYTER_RUNTIME_DIR=str(runtime),
                     CNNBOOK_HOME=str(tmp_path / "work"),  # the learner's working copy, never the real ~
                     PYTHONPATH=os.pathsep.join(filter(None, [ROOT, os.environ.get("PYTHONPATH")])))
    log = open(tmp_path / "lab.log", "w+")
    proc = subprocess.Popen([sys.executable, "-m", "cnnbook", "lab", "--", "--no-browser", "--ip", "127.0.0.1",
                             f"--port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}"],
                            env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    family = []
    try:
        base, deadline = f"http://127.0.0.1:{port}", time.monotonic() + 120
        while True:
            try:
                _api(base, token, "/api/status")
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    pytest.fail(f"JupyterLab did not answer (exit code {proc.poll()}); log:\n{log.read()[-3000:]}")
                time.sleep(0.5)
        yield proc, base, token, runtime, family
    finally:
        stop_popen(proc, family)
        log.close()


def wait_until_the_kernel_answers(connection_file, seconds=90):
    """Return once the kernel started through the REST API answers a kernel_info request on its own sockets.

    (The server reports a kernel as "starting" until some client talks to it, so its execution_state never
    changes while the test does not connect: waiting for it only waited out a deadline.)"""
    from jupyter_client import BlockingKernelClient
    deadline = time.monotonic() + seconds
    while not connection_file.is_file():
        assert time.monotonic() < deadline, f"no connection file {connection_file.name} after {seconds} s"
        time.sleep(0.2)
    client = BlockingKernelClient(connection_file=str(connection_file))
    client.load_connection_file()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=max(1, deadline - time.monotonic()))  # raises RuntimeError if it does not
    finally:
        client.stop_channels()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_jupyterlab_lists_every_notebook_and_a_signal_stops_it_with_its_kernels(tmp_path, sig):
    """The README's first command serves the notebooks; SIGTERM (what a container, a hub or a test sends) or
    SIGINT to the command's PID leaves nothing running, no runtime file and no traceback."""
    with running_lab(tmp_path) as (proc, base, token, runtime, family):
        names = sorted(item["name"] for item in _api(base, token, "/api/contents/")["content"])
        kernel = _api(base, token, "/api/kernels", {"name": "python3"})
        wait_until_the_kernel_answers(runtime / f"kernel-{kernel['id']}.json")
        family += descendants(proc.pid)
        kernels = [p for p in family if "ipykernel" in " ".join(p.cmdline())]
        assert kernels, f"no kernel process below the command: {[p.cmdline() for p in family]}"
        assert any(f.name.startswith("jpserver-") for f in runtime.iterdir())
        os.kill(proc.pid, sig)
        try:
            status = proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            status = None
        _, alive = psutil.wait_procs(family, timeout=30)
        survivors = [" ".join(p.cmdline()) for p in alive]
        leftover_files = sorted(f.name for f in runtime.iterdir() if f.name.startswith(("jpserver-", "kernel-")))
        log = (tmp_path / "lab.log").read_text()
    assert names == sorted(p.name for p in NOTEBOOKS.glob("*.ipynb"))
    assert names[0] == "00-start-here.ipynb"
    # what it served is the learner's working copy of the student edition (tests/test_learner.py checks it)
    assert sorted(p.name for p in (tmp_path / "work").glob("*.ipynb")) == names
    assert "### BEGIN SOLUTION" not in (tmp_path / "work" / "03-convolution.ipynb").read_text()
    assert status is not None, "the command did not exit"
    assert not survivors, f"still running after {sig.name}: {survivors}"
    assert not leftover_files, f"stale runtime files: {leftover_files}"
    assert "Traceback" not in log and "KeyboardInterrupt" not in log, log[-2000:]


def test_without_jupyterlab_the_command_says_how_to_install_it():
    """``jupyter`` may be on PATH (jupyter_core) without JupyterLab: the import decides."""
    hide = ("import sys; sys.modules['jupyterlab'] = None; from cnnbook.__main__ import main; "
            "sys.exit(main(['lab', '--', '--version']))")
    result = subprocess.run([sys.executable, "-c", hide], capture_output=True, text=True, timeout=120,
                            env=marked_env(), cwd=ROOT, stdin=subprocess.DEVNULL)
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert result.stderr.strip().splitlines() == [
        "error: JupyterLab is not installed here (it does not import): run `pip install jupyterlab`, "
        "or `pip install -r requirements.txt` in a clone"], result.stderr


def test_help_shows_the_readme_form_with_the_separator():
    helped = subprocess.run([sys.executable, "-m", "cnnbook", "lab", "--help"], capture_output=True, text=True,
                            timeout=60, env=marked_env(), cwd=ROOT)
    form = "python -m cnnbook lab -- --no-browser --port 8890"
    assert helped.returncode == 0 and form in " ".join(helped.stdout.split())
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        assert form in f.read()
    # the form without -- is a command-line mistake: one error line, exit 2, and it points at the form with --
    wrong = subprocess.run([sys.executable, "-m", "cnnbook", "lab", "--no-browser", "--port", "8890"],
                           capture_output=True, text=True, timeout=60, env=marked_env(), cwd=ROOT)
    assert wrong.returncode == 2 and "Traceback" not in wrong.stderr
    errors = [line for line in wrong.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1 and form in errors[0], wrong.stderr
