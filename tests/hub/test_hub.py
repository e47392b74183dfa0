"""A class on a real JupyterHub: five learners, four of whom run notebook 08 at the same time (``pytest -m hub``).

The tests share one hub (``class_hub`` in conftest.py) and run in this order; the last one stops it.
"""
from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from itertools import permutations

import nbformat
import psutil
import pytest
import rehearsal

pytestmark = pytest.mark.hub

NOTEBOOK = "08-training-a-cnn.ipynb"
DENIED = (403, 404)


def test_a_learner_logs_in_with_their_own_password_only(class_hub):
    hub = class_hub
    runners = hub.runners
    tokens = {hub.users[name].token for name in hub.learners}
    assert len(tokens) == len(hub.learners) and None not in tokens
    for name in hub.learners:                  # each token is its learner's, as the hub sees it
        who = hub.request("GET", "/hub/api/user", token=hub.users[name].token)
        assert who.status_code == 200 and who.json()["name"] == name
    first, second = runners[0], runners[1]
    with pytest.raises(PermissionError):      # another learner's password
        hub.log_in(first, password=hub.users[second].password)
    with pytest.raises(PermissionError):
        hub.log_in(first, password="not-the-password")


def test_learners_cannot_reach_each_others_servers_or_files(class_hub):
    hub, runners = class_hub, class_hub.runners
    path = f"/api/contents/cnnbook/{NOTEBOOK}"
    for name in runners:                       # the control: each learner reads their own copy
        assert hub.server(name, "GET", path).status_code == 200
    for me, other in permutations(runners, 2):
        mine = hub.users[me].token
        assert hub.server(other, "GET", path, token=mine).status_code in DENIED
        assert hub.server(other, "GET", "/api/status", token=mine).status_code in DENIED
        assert hub.server(other, "POST", "/api/kernels", token=mine, json={"name": "python3"}).status_code in DENIED
        assert hub.request("GET", f"/hub/api/users/{other}", token=mine).status_code in DENIED
        assert hub.request("POST", f"/hub/api/users/{other}/tokens", token=mine, json={}).status_code in DENIED
        assert hub.request("DELETE", f"/hub/api/users/{other}/server", token=mine).status_code in DENIED
        # up out of one's own root folder into another home, through one's own server
        escape = hub.server(me, "GET", f"/api/contents/..%2F{other}%2Fcnnbook%2F{NOTEBOOK}")
        assert escape.status_code in DENIED, escape.text[:200]
    anonymous = hub.request("GET", f"/user/{runners[0]}{path}")
    assert anonymous.status_code != 200 and "cells" not in anonymous.text


def test_nothing_listens_beyond_loopback(class_hub):
    hub, runners = class_hub, class_hub.runners
    kernels = {}
    try:
        for name in runners:
            if not hub.server_running(name):
                hub.start_server(name)
            r = hub.server(name, "POST", "/api/kernels", json={"name": "python3"})
            assert r.status_code == 201, r.text[:200]
            kernels[name] = r.json()["id"]
        deadline = time.monotonic() + 120
        while True:
            listening = hub.listening()
            kernel_pids = {p.pid for p in hub.leftovers() if any(k in " ".join(p.cmdline()) for k in kernels.values())}
            with_sockets = {pid for pid, _, _ in listening}
            if len(kernel_pids) == len(kernels) and kernel_pids <= with_sockets or time.monotonic() > deadline:
                break
            time.sleep(1)
        ports = {port for _, _, port in listening}
        assert {hub.port, hub.hub_port, hub.proxy_api_port} <= ports      # the check sees the hub and proxy...
        assert len(kernel_pids) == len(kernels) and kernel_pids <= with_sockets   # ...and every kernel
        servers = {hub.users[name].server_pid for name in runners}
        assert servers <= with_sockets                                    # ...and every single-user server
        beyond = [entry for entry in listening if entry[1] not in rehearsal.LOOPBACK]
        assert beyond == []
    finally:
        for name, kernel_id in kernels.items():
            hub.server(name, "DELETE", f"/api/kernels/{kernel_id}")


def _learner_runs_notebook_08(hub, name):
    """What one learner does: open the notebook from their home, do the exercise, run all, save."""
    path = f"cnnbook/{NOTEBOOK}"
    nb, solved = rehearsal.solve_exercises(hub.read_notebook(name, path), rehearsal.ROOT / "notebooks" / NOTEBOOK)
    start = time.time()
    run = hub.run_notebook(name, path, nb)
    end = time.time()
    hub.write_notebook(name, path, run.nb)
    return {"run": run, "solved": solved, "start": start, "end": end}


def test_four_learners_run_notebook_08_at_once(class_hub):
    hub, runners = class_hub, class_hub.runners
    for name in runners:                       # a learner whose server was culled meanwhile starts it again
        if not hub.server_running(name):
            hub.start_server(name)
    with ThreadPoolExecutor(len(runners)) as pool:
        futures = {name: pool.submit(_learner_runs_notebook_08, hub, name) for name in runners}
        results = {name: f.result() for name, f in futures.items()}
    for name, r in results.items():
        run = r["run"]
        assert r["solved"] == 1                                   # the one exercise of notebook 08
        assert run.errors == [], f"{name}: {run.errors}\n{hub.log_tail()}"
        code = [c for c in run.nb["cells"] if c["cell_type"] == "code"]
        assert len(run.cells) == len(code) and all(c["execution_count"] for c in code)
        saved = nbformat.read(hub.users[name].home / "cnnbook" / NOTEBOOK, as_version=4)   # on disk, in their home
        text = json.dumps([c.get("outputs", []) for c in saved.cells])
        assert "test accuracy" in text and "correct: conv_param_count" in text
    # at the same time: every run started before any finished
    assert max(r["start"] for r in results.values()) < min(r["end"] for r in results.values())
    # each learner's own kernel did the work: CPU time in their kernel, not in this process
    assert all(r["run"].kernel_cpu_s > 5 for r in results.values())


def test_an_idle_server_is_culled_and_its_files_kept(class_hub):
    hub, idle = class_hub, class_hub.idle
    notes, notes_text = hub.notes
    learner = hub.users[idle]
    server = hub.seen[learner.server_pid]      # recorded while it ran (the culler may have been quicker)
    deadline = time.monotonic() + hub.cull_timeout + 120
    while hub.server_running(idle) and time.monotonic() < deadline:
        time.sleep(2)
    assert not hub.server_running(idle), "the idle server was not culled"
    assert f"Culling server {idle}" in (hub.workdir / "jupyterhub.log").read_text()   # by the culler, not by us
    psutil.wait_procs([server], timeout=30)
    assert not server.is_running()                                 # the process is gone, not only the route
    assert (learner.home / notes).read_text() == notes_text
    assert (learner.home / "cnnbook" / NOTEBOOK).is_file()
    hub.start_server(idle)                                         # back the next day: everything is there
    again = hub.server(idle, "GET", f"/api/contents/{notes}", params={"content": "1", "format": "text"})
    assert again.status_code == 200 and again.json()["content"] == notes_text


def test_stopping_the_hub_leaves_nothing_running(class_hub):
    hub = class_hub
    seen = len(hub.seen)
    assert seen >= 2 + 2 * len(hub.learners)    # hub, proxy, culler, servers and kernels were all tracked
    hub.stop()
    assert hub.leftovers() == []
    marker = str(hub.workdir)
    strays = []
    for p in psutil.process_iter(["pid", "cmdline", "cwd"]):
        try:
            if marker in " ".join(p.info["cmdline"] or []) or (p.info["cwd"] or "").startswith(marker):
                strays.append((p.pid, p.info["cmdline"]))
        except psutil.Error:
            pass
    assert strays == []
    ports = {hub.port, hub.hub_port, hub.proxy_api_port}
    assert [c for c in psutil.net_connections(kind="tcp")
            if c.status == psutil.CONN_LISTEN and c.laddr.port in ports] == []
