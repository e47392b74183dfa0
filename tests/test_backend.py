"""cnnbook.backend: dispatch on arguments, the default backend, and clear errors."""
import subprocess
import sys

import numpy as np
import pytest
from strict_array import StrictArray, strict, strict_xp

from cnnbook import backend
from cnnbook.backend import default_backend, get_array_module, to_device, to_numpy, use


@pytest.fixture(autouse=True)
def _fresh_choice(monkeypatch):
    # use() sets module state; every test starts from "nothing chosen".
    monkeypatch.setattr(backend, "_chosen", None)
    monkeypatch.delenv("CNNBOOK_BACKEND", raising=False)


def test_get_array_module_follows_the_arguments(xp):
    a = xp.ones((2, 3), dtype=xp.float32)
    assert get_array_module(a) is xp
    assert get_array_module(a, None, 2.0, a) is xp


def test_get_array_module_without_arrays_is_numpy():
    assert get_array_module() is np
    assert get_array_module(None, 3) is np


def test_mixing_backends_is_a_clear_type_error():
    with pytest.raises(TypeError, match=r"argument 0 is strict_numpy, argument 1 is numpy"):
        get_array_module(strict(np.ones(2)), np.ones(2))


def test_non_arrays_are_rejected_by_name():
    with pytest.raises(TypeError, match="list"):
        get_array_module([1, 2, 3])


def test_to_numpy_returns_a_host_ndarray(xp):
    a = xp.arange(6).reshape(2, 3)
    host = to_numpy(a)
    assert type(host) is np.ndarray
    np.testing.assert_array_equal(host, np.arange(6).reshape(2, 3))


def test_to_device_moves_host_data_to_the_default_backend(xp):
    moved = to_device(np.arange(4.0))
    assert get_array_module(moved) is xp
    assert to_numpy(moved).tolist() == [0.0, 1.0, 2.0, 3.0]


def test_default_is_numpy():
    assert default_backend() == "numpy"
    assert backend.default_xp() is np


@pytest.mark.parametrize("value", ["numpy", " NumPy "])
def test_environment_selects_numpy(monkeypatch, value):
    monkeypatch.setenv("CNNBOOK_BACKEND", value)
    assert default_backend() == "numpy"


def test_unknown_environment_value_names_it(monkeypatch):
    monkeypatch.setenv("CNNBOOK_BACKEND", "tpu")
    with pytest.raises(ValueError, match=r"'tpu'.*numpy, cupy, auto"):
        default_backend()


def test_use_rejects_unknown_names():
    with pytest.raises(ValueError, match="'torch'"):
        use("torch")
    with pytest.raises(ValueError, match="None"):
        use(None)


def test_auto_falls_back_to_numpy_without_gpu(monkeypatch):
    monkeypatch.setattr(backend, "gpu_status", lambda: (False, "no GPU in this test"))
    assert use("auto") == "numpy"
    monkeypatch.setenv("CNNBOOK_BACKEND", "auto")
    monkeypatch.setattr(backend, "_chosen", None)
    assert default_backend() == "numpy"


def test_cupy_without_gpu_says_so(monkeypatch):
    monkeypatch.setattr(backend, "gpu_status", lambda: (False, "CuPy is not installed"))
    with pytest.raises(RuntimeError, match="no GPU works: CuPy is not installed"):
        use("cupy")
    monkeypatch.setenv("CNNBOOK_BACKEND", "cupy")
    with pytest.raises(RuntimeError, match=r"\$CNNBOOK_BACKEND='cupy'.*no GPU works"):
        default_backend()


def test_auto_picks_cupy_when_a_gpu_works(monkeypatch):
    monkeypatch.setattr(backend, "gpu_status", lambda: (True, "fake GPU"))
    assert use("auto") == "cupy"


def test_use_wins_over_the_environment(monkeypatch):
    monkeypatch.setenv("CNNBOOK_BACKEND", "auto")
    assert use("numpy") == "numpy"
    assert default_backend() == "numpy"


def test_gpu_status_never_raises_even_with_a_broken_cupy(monkeypatch):
    class Broken:
        def __getattr__(self, name):
            raise RuntimeError("CUDA driver version is insufficient")

    monkeypatch.setitem(sys.modules, "cupy", Broken())
    backend.gpu_status.cache_clear()
    try:
        works, reason = backend.gpu_status()
    finally:
        backend.gpu_status.cache_clear()
    assert works is False
    assert "insufficient" in reason


def test_import_has_no_side_effects_and_survives_a_bad_environment():
    # A wrong CNNBOOK_BACKEND must not break `import cnnbook`: the error comes when the backend is used.
    code = "import cnnbook, cnnbook.backend; print('imported')"
    env = {"CNNBOOK_BACKEND": "cupy", "PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "imported"


def test_strict_stand_in_refuses_plain_numpy():
    a = strict(np.ones(3))
    assert isinstance(a, StrictArray)
    with pytest.raises(TypeError, match="StrictArray"):
        a + np.ones(3)
    with pytest.raises(TypeError, match="StrictArray"):
        np.concatenate([a, np.ones(3)])
    assert isinstance(strict_xp.zeros(3), StrictArray)
