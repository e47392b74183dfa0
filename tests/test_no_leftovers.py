"""The helpers that keep tests and benchmarks from leaving processes behind, checked on a process that hides.

A "kernel" here is a grandchild in a session of its own (what jupyter_client starts), so neither a process
group signal nor waiting for the child reaches it.
"""
import subprocess
import sys
import time

import psutil
import pytest
from process_helpers import check_no_leftovers, leftovers, marked_env

from benchmarks import processes

SPAWN = """
import subprocess, sys, time
kernel = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"], start_new_session=True)
open(sys.argv[1], "w").write(str(kernel.pid))
if sys.argv[2] == "stay":
    time.sleep(600)
"""


def _pid_from(path, seconds=120):
    deadline = time.monotonic() + seconds
    while not (path.exists() and path.read_text()) and time.monotonic() < deadline:
        time.sleep(0.1)
    return int(path.read_text())


def test_a_benchmark_child_past_its_timeout_is_stopped_with_what_it_started(tmp_path):
    pidfile = tmp_path / "kernel.pid"
    with pytest.raises(subprocess.TimeoutExpired):
        processes.run([sys.executable, "-c", SPAWN, str(pidfile), "stay"], timeout=10, env=marked_env())
    kernel = _pid_from(pidfile, seconds=1)  # written before the timeout, or the test says so here
    assert not psutil.pid_exists(kernel) or psutil.Process(kernel).status() == psutil.STATUS_ZOMBIE
    assert leftovers() == []


def test_the_leftover_check_finds_an_orphan_and_stops_it(tmp_path):
    pidfile = tmp_path / "kernel.pid"
    subprocess.run([sys.executable, "-c", SPAWN, str(pidfile), "leave"], env=marked_env(), timeout=120, check=True)
    orphan = psutil.Process(_pid_from(pidfile))
    assert orphan.is_running() and orphan in leftovers()
    with pytest.raises(AssertionError, match=rf"still running: {orphan.pid}: .*time\.sleep\(600\)"):
        check_no_leftovers(grace=0.5)
    assert psutil.wait_procs([orphan], timeout=30)[1] == []
    assert leftovers() == []
