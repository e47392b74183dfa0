"""Shared test fixtures: the array backends every backend-sensitive test runs on.

``xp`` is parametrised over
* ``numpy``;
* ``strict``: a CPU stand-in for CuPy that refuses to meet plain NumPy arrays (tests/strict_array.py),
  so CI without a GPU still catches NumPy-only code;
* ``cupy``: skipped, with the reason, where no GPU works.

With ``CNNBOOK_BACKEND=cupy`` the numpy/strict cases still run and the cupy cases must run (none skip).
"""
import os
import sys

# With pytest-xdist every worker (and every notebook kernel it starts, which inherits this environment)
# gets one BLAS thread and one layer thread: two workers with two threads each on a 2-core machine fight
# and run far slower.
if os.environ.get("PYTEST_XDIST_WORKER"):
    for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "CNNBOOK_BLAS_THREADS"):
        os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "tests"))

# Every notebook nbval runs is also linted for unreadable figures and noisy outputs (tests/figure_lint_plugin.py).
pytest_plugins = ["figure_lint_plugin"]

from cnnbook import backend  # noqa: E402

BACKENDS = ["numpy", "strict", "cupy"]


def _module_for(name):
    if name == "numpy":
        return np
    if name == "strict":
        from strict_array import strict_xp
        return strict_xp
    works, reason = backend.gpu_status()
    if not works:
        if os.environ.get("CNNBOOK_BACKEND", "").lower() == "cupy":
            pytest.fail(f"CNNBOOK_BACKEND=cupy but no GPU works: {reason}")
        pytest.skip(f"no GPU here: {reason}")
    import cupy
    return cupy


@pytest.fixture(params=BACKENDS)
def xp(request, monkeypatch):
    """The array module under test; arrays the package creates go there too."""
    module = _module_for(request.param)
    monkeypatch.setattr(backend, "_xp_override", module)
    return module
