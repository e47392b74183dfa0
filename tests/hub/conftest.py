"""The class rehearsal's hub (``pytest -m hub``): see ``rehearsal.py`` for what runs and how.

``class_hub`` starts one JupyterHub for the module with four learners who will run notebook 08 and one who
stays idle (for the culler), sets up the learner edition in each home, logs every learner in through the hub's
REST API with their own password, and starts their servers with their own tokens. It is stopped at the end
of the module, also when a test failed; a process it leaves running fails the teardown.

Needs ``pip install -r requirements-hub.txt`` and ``npm install --prefix .hub-node configurable-http-proxy``
(``.ci/run`` does both). Without them the fixture fails with that instruction: a rehearsal that did not run
is not a pass.
"""
from __future__ import annotations

import importlib.util

import pytest
import rehearsal

RUNNERS = ["learner-1", "learner-2", "learner-3", "learner-4"]
IDLE = "learner-idle"
# Long enough that a learner whose kernel computes without a message for a while (one cell of notebook 08
# is silent for ~9 s alone, maybe 4-8x that with four at once on a loaded 2-core machine) is not culled.
CULL_TIMEOUT = 120
NOTES, NOTES_TEXT = "my-notes.md", "# what I learned\n\nstride 2 halves the map\n"


@pytest.fixture(scope="module")
def class_hub(tmp_path_factory):
    missing = [m for m in ("jupyterhub", "jupyterhub_idle_culler") if importlib.util.find_spec(m) is None]
    if missing:
        pytest.fail(f"{', '.join(missing)} not installed: pip install -r requirements-hub.txt", pytrace=False)
    if rehearsal.find_proxy() is None:
        pytest.fail("configurable-http-proxy not found: npm install --prefix .hub-node configurable-http-proxy "
                    "(or set CNNBOOK_CHP)", pytrace=False)
    hub = rehearsal.Hub(tmp_path_factory.mktemp("hub"), [IDLE, *RUNNERS], cull_timeout=CULL_TIMEOUT,
                        cull_every=10)
    hub.runners, hub.idle, hub.notes = RUNNERS, IDLE, (NOTES, NOTES_TEXT)
    try:
        hub.start()
        for name in hub.learners:                 # the idle learner first: the culler's clock starts earliest
            rehearsal.set_up_learner_home(hub.users[name].home)
            hub.log_in(name)
            hub.start_server(name)
            if name == IDLE:                      # something of their own, to find again after the cull
                r = hub.server(name, "PUT", f"/api/contents/{NOTES}", json={"type": "file", "format": "text",
                                                                          "content": NOTES_TEXT})
                r.raise_for_status()
        yield hub
    finally:
        hub.stop()
        left = hub.leftovers()
        if left:
            pytest.fail(f"the hub left processes running: {[(p.pid, p.name()) for p in left]}", pytrace=False)
