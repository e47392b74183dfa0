"""A real JupyterHub on this machine, for the class rehearsal (``pytest -m hub``) and ``benchmarks/bench_hub.py``.

What runs, all bound to 127.0.0.1 on free ports, every secret generated for the run:

* ``jupyterhub`` (from PyPI) with its proxy ``configurable-http-proxy`` (from npm; ``.ci/run`` installs it into
  ``.hub-node/``, ``CNNBOOK_CHP`` overrides), an sqlite database and a cookie secret in a temporary folder;
* an authenticator with one generated password per learner (:data:`AUTHENTICATOR`, below), so a learner's
  password gives that learner's token and no one else's;
* ``SimpleLocalProcessSpawner``: each learner's single-user Jupyter server runs as this Unix user, with its own
  temporary home as its root folder. That gives no operating-system isolation between learners (a kernel could
  open another home by its path); on Zero to JupyterHub each learner is a pod with its own volume. What the
  rehearsal checks is the hub's side: tokens, servers and the contents API;
* ``jupyterhub-idle-culler`` as a hub service, with a short timeout.

Notebooks run through the single-user server's REST and WebSocket API over the proxy (``/api/sessions``, then
``execute_request`` messages on ``/api/kernels/<id>/channels``), never in this process. Outputs are turned into
nbformat outputs with ``nbformat.v4.output_from_msg`` and the executed notebook is saved back into the learner's
home through the contents API, as JupyterLab would.

Every process the hub starts (proxy, culler, servers, kernels) is recorded by a sampler thread, which also keeps
each learner's peak resident memory; :meth:`Hub.stop` stops the hub, then kills whatever it recorded that is still
alive, and :meth:`Hub.leftovers` says what survived (nothing, or the test fails).
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import psutil
import requests
import websocket
from jupyter_server.services.kernels.connection.base import deserialize_binary_message

ROOT = Path(__file__).resolve().parents[2]
LOOPBACK = {"127.0.0.1", "::1", "::ffff:127.0.0.1"}
# Environment every single-user server (and so every kernel) gets: one BLAS/OpenMP thread, as a pod with
# `singleuser.cpu.limit: 1` should (deploy/z2jh/config.yaml sets the same through singleuser.extraEnv).
SINGLEUSER_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
                  "CNNBOOK_BLAS_THREADS": "1", "MPLBACKEND": "Agg"}
# Passed through from this environment when set (OPENBLAS_CORETYPE is this machine's, and stays as it is).
ENV_KEEP = ["OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "CNNBOOK_BACKEND", "CNNBOOK_FASHION_MNIST_DIR"]

# The hub's configuration, filled in by Hub.start(); the authenticator is defined in it so the hub needs no
# package of ours. Passwords are compared in constant time.
AUTHENTICATOR = '''
import hmac
from jupyterhub.auth import Authenticator
from traitlets import Dict


class PerLearnerPassword(Authenticator):
    """Each learner has their own generated password; no other name or password logs in."""
    passwords = Dict(config=True)

    async def authenticate(self, handler, data):
        name, password = data.get("username", ""), data.get("password", "")
        expected = self.passwords.get(name)
        if expected is not None and hmac.compare_digest(expected.encode(), password.encode()):
            return name
        return None
'''


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def find_proxy() -> str | None:
    """Path of ``configurable-http-proxy``: ``$CNNBOOK_CHP``, then ``.hub-node/``, then ``$PATH``."""
    for candidate in (os.environ.get("CNNBOOK_CHP"), ROOT / ".hub-node" / "node_modules" / ".bin" /
                      "configurable-http-proxy"):
        if candidate and Path(candidate).is_file():
            return str(candidate)
    return shutil.which("configurable-http-proxy")


def set_up_learner_home(home: Path) -> Path:
    """The learner edition in ``home/cnnbook`` (``python -m cnnbook student``); returns that folder."""
    home.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "cnnbook", "student", str(home / "cnnbook")], check=True,
                   capture_output=True, text=True, cwd=ROOT)
    return home / "cnnbook"


def solve_exercises(student_nb: dict, source_path: Path) -> tuple[dict, int]:
    """A learner's notebook with every *Your turn* stub replaced by the instructor's solution (same cell id).

    Stands in for a learner who has done the exercises; returns the notebook and the number of cells replaced.
    """
    source = {c.get("id"): c for c in nbformat.read(source_path, as_version=4).cells}
    nb = json.loads(json.dumps(student_nb))
    replaced = 0
    for cell in nb["cells"]:
        text = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
        if cell["cell_type"] == "code" and "raise NotImplementedError(\"Your turn" in text:
            cell["source"] = source[cell["id"]].source
            replaced += 1
    return nb, replaced


@dataclass
class Learner:
    name: str
    password: str
    home: Path
    token: str | None = None
    peak_server_mb: float = 0.0      # single-user server process alone
    peak_kernels_mb: float = 0.0     # its kernels together
    peak_total_mb: float = 0.0       # server and kernels at the same moment
    server_pid: int | None = None


@dataclass
class Hub:
    """A JupyterHub with ``learners`` (names), its files under ``workdir``. Use as a context manager."""
    workdir: Path
    learners: list[str]
    cull_timeout: int | None = None   # seconds; None: no idle culler
    cull_every: int = 5
    activity_interval: int = 5
    sample_every: float = 0.2
    proc: subprocess.Popen | None = None
    users: dict[str, Learner] = field(default_factory=dict)
    seen: dict[int, psutil.Process] = field(default_factory=dict)

    # -- life cycle --------------------------------------------------------------------------------------
    def start(self, timeout: float = 120) -> Hub:
        proxy = find_proxy()
        if proxy is None:
            raise RuntimeError("configurable-http-proxy not found: `npm install --prefix .hub-node "
                               "configurable-http-proxy` (as .ci/run does), or set CNNBOOK_CHP to its path")
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port, self.hub_port, self.proxy_api_port = free_port(), free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.admin_token = secrets.token_hex(32)
        proxy_token = secrets.token_hex(32)
        (self.workdir / "cookie_secret").write_text(secrets.token_hex(32))
        os.chmod(self.workdir / "cookie_secret", 0o600)
        for name in self.learners:
            self.users[name] = Learner(name, secrets.token_urlsafe(16), self.workdir / "homes" / name)
        bindir = Path(sys.executable).parent
        services = [{"name": "rehearsal", "api_token": self.admin_token}]
        roles = [{"name": "rehearsal", "services": ["rehearsal"],
                  "scopes": ["admin:users", "admin:servers", "list:users", "read:users"]}]
        if self.cull_timeout is not None:
            services.append({"name": "idle-culler", "command": [
                sys.executable, "-m", "jupyterhub_idle_culler", f"--timeout={self.cull_timeout}",
                f"--cull-every={self.cull_every}"]})
            roles.append({"name": "idle-culler", "services": ["idle-culler"],
                          "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"]})
        config = AUTHENTICATOR + textwrap.dedent(f"""
            c = get_config()  # noqa
            c.JupyterHub.ip = "127.0.0.1"
            c.JupyterHub.port = {self.port}
            c.JupyterHub.hub_ip = "127.0.0.1"
            c.JupyterHub.hub_port = {self.hub_port}
            c.JupyterHub.db_url = {f"sqlite:///{self.workdir / 'jupyterhub.sqlite'}"!r}
            c.JupyterHub.cookie_secret_file = {str(self.workdir / 'cookie_secret')!r}
            c.JupyterHub.pid_file = {str(self.workdir / 'jupyterhub.pid')!r}
            c.JupyterHub.last_activity_interval = {self.activity_interval}
            c.JupyterHub.authenticator_class = PerLearnerPassword
            c.PerLearnerPassword.passwords = {json.dumps({u.name: u.password for u in self.users.values()})}
            c.Authenticator.allowed_users = {sorted(self.learners)!r}
            c.JupyterHub.services = {services!r}
            c.JupyterHub.load_roles = {roles!r}
            c.ConfigurableHTTPProxy.command = [{proxy!r}]
            c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{self.proxy_api_port}"
            c.ConfigurableHTTPProxy.auth_token = {proxy_token!r}
            c.JupyterHub.spawner_class = "simple"
            c.SimpleLocalProcessSpawner.home_dir_template = {str(self.workdir / 'homes' / '{username}')!r}
            c.Spawner.ip = "127.0.0.1"
            c.Spawner.cmd = [{str(bindir / 'jupyterhub-singleuser')!r}]
            c.Spawner.args = {['--allow-root'] if os.geteuid() == 0 else []!r}
            c.Spawner.default_url = "/lab"
            c.Spawner.start_timeout = 180
            c.Spawner.http_timeout = 180
            c.Spawner.env_keep.extend({ENV_KEEP!r})
            c.Spawner.environment = {dict(SINGLEUSER_ENV, JUPYTERHUB_ACTIVITY_INTERVAL=str(self.activity_interval))!r}
        """)
        (self.workdir / "jupyterhub_config.py").write_text(config)
        env = dict(os.environ, PATH=f"{bindir}{os.pathsep}{Path(proxy).parent}{os.pathsep}{os.environ['PATH']}")
        self.log = open(self.workdir / "jupyterhub.log", "w")
        self.proc = subprocess.Popen([str(bindir / "jupyterhub"), "-f", str(self.workdir / "jupyterhub_config.py")],
                                     cwd=self.workdir, env=env, stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        self.seen[self.proc.pid] = psutil.Process(self.proc.pid)
        self._stop_sampling = threading.Event()
        self._sampler = threading.Thread(target=self._sample, daemon=True)
        self._sampler.start()
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"jupyterhub exited ({self.proc.returncode}):\n{self.log_tail()}")
            try:
                if requests.get(f"{self.url}/hub/api/", timeout=5).status_code == 200:
                    return self
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"jupyterhub did not answer within {timeout} s:\n{self.log_tail()}")
            time.sleep(0.5)

    def __enter__(self) -> Hub:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self, timeout: float = 30) -> None:
        """Stop the hub (it stops the servers and the proxy), then kill everything it started that is left."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                pass
        if hasattr(self, "_stop_sampling"):
            self._stop_sampling.set()
            self._sampler.join(5)
        alive = self.leftovers()
        for p in alive:
            try:
                os.killpg(p.pid, signal.SIGKILL) if os.getpgid(p.pid) == p.pid else p.kill()
            except (ProcessLookupError, psutil.NoSuchProcess, PermissionError):
                pass
        psutil.wait_procs(alive, timeout=10)
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        if hasattr(self, "log"):
            self.log.close()

    def leftovers(self) -> list[psutil.Process]:
        """Processes the hub started that still run (zombies excepted)."""
        out = []
        for p in self.seen.values():
            try:
                if p.is_running() and p.status() != psutil.STATUS_ZOMBIE:
                    out.append(p)
            except psutil.NoSuchProcess:
                pass
        return out

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join((self.workdir / "jupyterhub.log").read_text().splitlines()[-lines:])
        except OSError:
            return ""

    # -- the sampler: every process under the hub, and each learner's memory -------------------------------
    def _sample(self) -> None:
        hub = self.seen[self.proc.pid]
        while not self._stop_sampling.is_set():
            try:
                children = hub.children(recursive=True)
            except psutil.NoSuchProcess:
                children = []
            for p in children:
                self.seen.setdefault(p.pid, p)
            for learner in self.users.values():
                self._sample_learner(learner)
            self._stop_sampling.wait(self.sample_every)

    def _sample_learner(self, learner: Learner) -> None:
        if learner.server_pid is None:
            return
        try:
            server = psutil.Process(learner.server_pid)
            server_mb = server.memory_info().rss / 2**20
            kernels = server.children(recursive=True)
            for k in kernels:
                self.seen.setdefault(k.pid, k)
            kernels_mb = sum(k.memory_info().rss for k in kernels) / 2**20
        except psutil.NoSuchProcess:
            return
        learner.peak_server_mb = max(learner.peak_server_mb, server_mb)
        learner.peak_kernels_mb = max(learner.peak_kernels_mb, kernels_mb)
        learner.peak_total_mb = max(learner.peak_total_mb, server_mb + kernels_mb)

    def listening(self) -> list[tuple[int, str, int]]:
        """``(pid, address, port)`` of every listening TCP socket of a process the hub started."""
        pids = {p.pid for p in self.leftovers()}
        return [(c.pid, c.laddr.ip, c.laddr.port) for c in psutil.net_connections(kind="tcp")
                if c.status == psutil.CONN_LISTEN and c.pid in pids]

    # -- the hub's REST API --------------------------------------------------------------------------------
    def request(self, method: str, path: str, token: str | None = None, **kwargs) -> requests.Response:
        headers = kwargs.pop("headers", {})
        if token:
            headers["Authorization"] = f"token {token}"
        kwargs.setdefault("timeout", 60)
        kwargs.setdefault("allow_redirects", False)
        return requests.request(method, f"{self.url}{path}", headers=headers, **kwargs)

    def admin(self, method: str, path: str, **kwargs) -> requests.Response:
        return self.request(method, f"/hub/api{path}", token=self.admin_token, **kwargs)

    def log_in(self, name: str, password: str | None = None) -> str:
        """A token for ``name``, asked of the hub's REST API with the learner's name and password."""
        learner = self.users[name]
        r = self.request("POST", f"/hub/api/users/{name}/tokens",
                         json={"auth": {"username": name, "password": learner.password if password is None
                                        else password}, "note": "rehearsal", "expires_in": 3600})
        if r.status_code != 201:
            raise PermissionError(f"log-in of {name} refused: {r.status_code} {r.text[:200]}")
        token = r.json()["token"]
        if password is None:
            learner.token = token
        return token

    def start_server(self, name: str, timeout: float = 240) -> None:
        """Start ``name``'s single-user server with the learner's own token and wait until it answers."""
        learner = self.users[name]
        r = self.request("POST", f"/hub/api/users/{name}/server", token=learner.token)
        if r.status_code not in (201, 202):
            raise RuntimeError(f"could not start {name}'s server: {r.status_code} {r.text[:200]}")
        self.wait_ready(name, timeout)

    def wait_ready(self, name: str, timeout: float = 240) -> None:
        learner = self.users[name]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            model = self.admin("GET", f"/users/{name}").json()
            server = model.get("servers", {}).get("")
            if server and server.get("ready"):
                learner.server_pid = (server.get("state") or {}).get("pid") or self._server_pid(name)
                r = self.server(name, "GET", "/api/status")
                if r.status_code == 200:
                    return
            time.sleep(0.5)
        raise RuntimeError(f"{name}'s server was not ready within {timeout} s:\n{self.log_tail()}")

    def _server_pid(self, name: str) -> int | None:
        home = str(self.users[name].home)
        for p in list(self.seen.values()):
            try:
                if "jupyterhub-singleuser" in " ".join(p.cmdline()) and p.cwd() == home:
                    return p.pid
            except psutil.Error:
                pass
        return None

    def server_running(self, name: str) -> bool:
        model = self.admin("GET", f"/users/{name}").json()
        return "" in model.get("servers", {})

    # -- a learner's single-user server, through the proxy ---------------------------------------------------
    def server(self, owner: str, method: str, path: str, token: str | None = None, **kwargs) -> requests.Response:
        """``path`` on ``owner``'s server, with ``token`` (default: the owner's own)."""
        return self.request(method, f"/user/{owner}{path}", token=token or self.users[owner].token, **kwargs)

    def read_notebook(self, owner: str, path: str) -> dict:
        r = self.server(owner, "GET", f"/api/contents/{path}", params={"content": "1"})
        r.raise_for_status()
        return r.json()["content"]

    def write_notebook(self, owner: str, path: str, nb: dict) -> None:
        r = self.server(owner, "PUT", f"/api/contents/{path}", json={"type": "notebook", "format": "json",
                                                                     "content": nb})
        r.raise_for_status()

    def run_notebook(self, owner: str, path: str, nb: dict, cell_timeout: float = 900) -> Run:
        """Run ``nb`` top to bottom in a new kernel of ``owner``'s server, as if opened at ``path``."""
        return Run(self, owner, path, nb, cell_timeout).execute()


@dataclass
class Run:
    """One notebook run through the kernel API: outputs, errors, times, the kernel's CPU time."""
    hub: Hub
    owner: str
    path: str
    nb: dict
    cell_timeout: float
    errors: list[str] = field(default_factory=list)
    wall_s: float = 0.0
    kernel_cpu_s: float = 0.0
    kernel_end_mb: float = 0.0
    cells: list[tuple[int, float]] = field(default_factory=list)   # (index, seconds) of each code cell
    longest_silence_s: float = 0.0                                  # longest stretch without a kernel message

    def execute(self) -> Run:
        hub, owner = self.hub, self.owner
        r = hub.server(owner, "POST", "/api/sessions", json={
            "path": self.path, "name": Path(self.path).name, "type": "notebook", "kernel": {"name": "python3"}})
        r.raise_for_status()
        session = r.json()
        kernel_id = session["kernel"]["id"]
        ws_url = hub.url.replace("http", "ws", 1) + f"/user/{owner}/api/kernels/{kernel_id}/channels"
        client_session = uuid.uuid4().hex
        ws = websocket.create_connection(f"{ws_url}?session_id={client_session}", timeout=self.cell_timeout,
                                         header=[f"Authorization: token {hub.users[owner].token}"])
        kernel = None
        try:
            kernel = self._kernel_process(kernel_id)
            cpu0 = _cpu(kernel)
            t0 = time.perf_counter()
            for index, cell in enumerate(self.nb["cells"]):
                if cell["cell_type"] != "code":
                    continue
                source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
                start = time.perf_counter()
                cell["outputs"], cell["execution_count"], error = self._execute(ws, client_session, source)
                self.cells.append((index, time.perf_counter() - start))
                if error:
                    self.errors.append(f"cell {index}: {error}")
                    break
            self.wall_s = time.perf_counter() - t0
            self.kernel_cpu_s = _cpu(kernel) - cpu0
            self.kernel_end_mb = kernel.memory_info().rss / 2**20 if kernel else 0.0
        finally:
            ws.close()
            hub.server(owner, "DELETE", f"/api/sessions/{session['id']}")
        return self

    def _kernel_process(self, kernel_id: str) -> psutil.Process | None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            server_pid = self.hub.users[self.owner].server_pid
            try:
                for p in psutil.Process(server_pid).children(recursive=True):
                    if kernel_id in " ".join(p.cmdline()):
                        self.hub.seen.setdefault(p.pid, p)
                        return p
            except (psutil.Error, TypeError, ValueError):
                pass
            time.sleep(0.2)
        return None

    def _execute(self, ws, client_session: str, code: str):
        msg_id = uuid.uuid4().hex
        ws.send(json.dumps({
            "channel": "shell", "buffers": [], "metadata": {}, "parent_header": {},
            "header": {"msg_id": msg_id, "msg_type": "execute_request", "session": client_session,
                       "username": self.owner, "version": "5.3", "date": time.strftime("%Y-%m-%dT%H:%M:%SZ")},
            "content": {"code": code, "silent": False, "store_history": True, "user_expressions": {},
                        "allow_stdin": False, "stop_on_error": True}}))
        outputs, count, error, idle, reply = [], None, None, False, False
        last = time.perf_counter()
        while not (idle and reply):
            frame = ws.recv()       # text, or binary when the message carries buffers (widgets' images)
            msg = json.loads(frame) if isinstance(frame, str) else deserialize_binary_message(frame)
            now = time.perf_counter()
            self.longest_silence_s = max(self.longest_silence_s, now - last)
            last = now
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind, content = msg["msg_type"], msg["content"]
            if msg["channel"] == "shell" and kind == "execute_reply":
                reply, count = True, content.get("execution_count")
                if content["status"] != "ok" and error is None:
                    error = f"{content.get('ename')}: {content.get('evalue')}"
            elif msg["channel"] != "iopub":
                continue
            elif kind == "status":
                idle = content["execution_state"] == "idle"
            elif kind == "clear_output":
                outputs = []
            elif kind in ("stream", "display_data", "execute_result", "error"):
                outputs.append(nbformat.v4.output_from_msg(msg))
                if kind == "error":
                    error = f"{content['ename']}: {content['evalue']}"
        return outputs, count, error


def _cpu(p: psutil.Process | None) -> float:
    if p is None:
        return 0.0
    try:
        t = p.cpu_times()
        return t.user + t.system + t.children_user + t.children_system
    except psutil.NoSuchProcess:
        return 0.0
