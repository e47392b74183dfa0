"""A real JupyterLab in headless Chromium, for the widget tests (``pytest -m browser``).

* JupyterLab runs on 127.0.0.1, a free port and a random token, with its config, data, runtime, settings
  and workspace folders in a temporary directory (the venv's own share/jupyter stays on the path, so the
  ipywidgets lab extension and the python3 kernel are found). The notebooks are copied there first, so
  running them never writes outputs into the repository.
* Chromium is Debian's ``/usr/bin/chromium`` (``CNNBOOK_CHROMIUM`` overrides), driven by Python Playwright;
  no browser is downloaded. Without either, the tests skip with the reason.
* A failing test leaves a screenshot in ``artifacts/browser/`` (``CNNBOOK_ARTIFACTS`` overrides).
* Nothing outlives the session: JupyterLab runs in its own process session and is stopped with its kernels
  whatever happens; every process started from here carries this session's mark (``process_helpers``), and
  a last check fails the session if one of them (server, kernel, Chromium) is still running.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from process_helpers import MARK, SESSION, check_no_leftovers, free_port, stop_popen

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CNNBOOK_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
SETTINGS = {  # JupyterLab user settings: every cell in the DOM (no windowing), no news pop-ups
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false",
                                                                        "checkForUpdates": False},
}


@pytest.fixture(scope="session", autouse=True)
def no_process_left_behind():
    """Mark every process this session starts (Playwright's driver and Chromium too); check none is left."""
    previous = os.environ.get(MARK)
    os.environ[MARK] = SESSION
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(MARK, None)
        else:
            os.environ[MARK] = previous
    check_no_leftovers()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


@pytest.fixture(scope="session")
def lab(tmp_path_factory):
    """``(base_url, token, folder)`` of a running JupyterLab serving a copy of notebooks/."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}; install Debian's chromium or set CNNBOOK_CHROMIUM")
    pytest.importorskip("playwright.sync_api", reason="Python Playwright is not installed (pip install playwright)")
    pytest.importorskip("jupyterlab", reason="JupyterLab is not installed")
    tmp = tmp_path_factory.mktemp("lab")
    work = tmp / "notebooks"
    shutil.copytree(ROOT / "notebooks", work, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    settings = tmp / "settings"
    for name, value in SETTINGS.items():
        path = settings / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value))
    env = dict(os.environ, **{MARK: SESSION},
               JUPYTER_CONFIG_DIR=str(tmp / "config"), JUPYTER_DATA_DIR=str(tmp / "data"),
               JUPYTER_RUNTIME_DIR=str(tmp / "runtime"), JUPYTERLAB_SETTINGS_DIR=str(settings),
               JUPYTERLAB_WORKSPACES_DIR=str(tmp / "workspaces"), MPLBACKEND="module://matplotlib_inline.backend_inline",
               # the kernel imports this checkout's cnnbook, whatever is installed
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    port, token = free_port(), secrets.token_hex(16)
    log = open(tmp / "jupyter.log", "w")  # noqa: SIM115 (closed in the finally below)
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ServerApp.ip=127.0.0.1",
         f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
         f"--ServerApp.root_dir={work}", "--LabApp.news_url=", "--LabApp.extension_manager=readonly"]
        + (["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []),
        cwd=work, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"JupyterLab did not start (exit {proc.poll()}); "
                            f"log:\n{(tmp / 'jupyter.log').read_text()[-3000:]}")
            time.sleep(0.5)
        yield base, token, work
    finally:
        stop_popen(proc)  # SIGTERM: JupyterLab shuts its kernels down; whatever is left after 20 s is killed
        log.close()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser, request):
    """A fresh browser page; a screenshot of it is saved when the test fails."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    yield pg
    rep = getattr(request.node, "rep_call", None)
    if rep is not None and rep.failed:
        folder = Path(os.environ.get("CNNBOOK_ARTIFACTS", ROOT / "artifacts" / "browser"))
        folder.mkdir(parents=True, exist_ok=True)
        shot = folder / (re.sub(r"[^\w.-]+", "_", request.node.name) + ".png")
        try:
            pg.screenshot(path=str(shot), full_page=True)
            print(f"screenshot saved to {shot}")
        except Exception as exc:  # the page may be gone; the failure itself is what matters
            print(f"no screenshot: {exc}")
    context.close()
