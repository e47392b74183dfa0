"""PyTorch for notebook 13: optional, imported lazily, and the port of a cnnbook model computes the same function.

* ``import cnnbook`` (and the models, the exercises) never imports torch; a missing torch stops notebook 13's first
  cell with the install commands, shown by IPython without a traceback, in the learner's language;
* ``to_torch`` copies every weight (the fully connected one transposed) into a ``torch.nn.Sequential`` that gives
  cnnbook's scores, owns its memory and refuses a layer it cannot port;
* ``check_port_to_torch`` passes a right port and names each plausible mistake in words.
"""
import subprocess
import sys

import numpy as np
import pytest

from cnnbook.course.language import set_language
from cnnbook.models import reference_cnn
from cnnbook.models.torch_port import TorchMissing, exercise_cnn, require_torch, to_torch


def test_importing_cnnbook_does_not_import_torch():
    code = ("import sys, cnnbook, cnnbook.models, cnnbook.models.torch_port, cnnbook.exercises, "
            "cnnbook.course.exercises; print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


@pytest.mark.parametrize("lang, words", [("en", "PyTorch is not installed"),
                                         ("ko", "PyTorch가 설치되어 있지 않습니다")])
def test_a_missing_torch_says_how_to_install_it_without_a_traceback(monkeypatch, lang, words):
    monkeypatch.setitem(sys.modules, "torch", None)        # import torch now raises ImportError
    set_language(lang)
    try:
        with pytest.raises(TorchMissing) as info:
            require_torch()
    finally:
        set_language(None)
    assert isinstance(info.value, ImportError) and words in str(info.value)
    assert "pip install torch --index-url https://download.pytorch.org/whl/cpu" in str(info.value)
    assert info.value._render_traceback_() == str(info.value).splitlines()   # IPython shows the message alone


torch = pytest.importorskip("torch")


@pytest.mark.parametrize("make", [reference_cnn, exercise_cnn], ids=["reference_cnn", "exercise_cnn"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_to_torch_gives_the_same_scores_with_its_own_copy_of_the_weights(make, dtype):
    model = make(seed=3, dtype=dtype)
    x = np.random.default_rng(0).uniform(size=(5, 1, 28, 28)).astype(dtype)
    ported = to_torch(model)
    with torch.no_grad():
        got = ported(torch.from_numpy(x)).numpy()
    want = model(x)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    assert got.dtype == dtype and np.abs(got - want).max() < tol * max(1.0, np.abs(want).max())
    for p in ported.parameters():                          # a copy: changing the port leaves cnnbook's model alone
        with torch.no_grad():
            p.add_(1.0)
    assert np.array_equal(model(x), want)


def test_to_torch_transposes_the_fully_connected_weight_and_names_a_layer_it_cannot_port():
    model = exercise_cnn(seed=1)
    fc = to_torch(model)[7]
    assert tuple(fc.weight.shape) == (10, 576) and np.array_equal(fc.weight.detach().numpy(), model[7].weight.data.T)
    from cnnbook.nn import LayerNorm, Sequential
    with pytest.raises(TypeError, match="no PyTorch layer for LayerNorm"):
        to_torch(Sequential(LayerNorm(4)))


# ---- the exercise: port_to_torch ------------------------------------------------------------------------
from exercise_helpers import rejects  # noqa: E402

from cnnbook import backend, exercises  # noqa: E402

nn = torch.nn


def port_to_torch(model):
    """A learner's port, written out layer by layer."""
    conv1, _, pool1, conv2, _, pool2, _, fc = model
    net = nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.AvgPool2d(2), nn.Conv2d(6, 16, 3), nn.ReLU(),
                        nn.MaxPool2d(2), nn.Flatten(), nn.Linear(576, 10))
    with torch.no_grad():
        for layer, tlayer in [(conv1, net[0]), (conv2, net[3]), (fc, net[7])]:
            w = backend.to_numpy(layer.weight.data)
            tlayer.weight.copy_(torch.tensor(w.T if layer is fc else w))
            tlayer.bias.copy_(torch.tensor(backend.to_numpy(layer.bias.data)))
    return net


def edited(change):
    def port(model):
        layers = list(port_to_torch(model))
        change(model, layers)
        return nn.Sequential(*layers)
    return port


def _set(layers, i, **params):
    for name, value in params.items():
        setattr(layers[i], name, nn.Parameter(value))


def test_port_to_torch_passes_a_right_port_and_the_packages(capsys):
    assert exercises.check_port_to_torch(port_to_torch) is port_to_torch
    assert exercises.check_port_to_torch(to_torch) is to_torch
    assert "correct: port_to_torch passed 3 hidden test cases" in capsys.readouterr().out


@pytest.mark.parametrize("wrong, hint", [
    (lambda model: None, "returned None"),
    (lambda model: list(port_to_torch(model)), "returned a list; return a torch.nn.Sequential"),
    (edited(lambda m, L: L.pop(6)), "of 7 layers; the cnnbook model has 8"),
    (edited(lambda m, L: L.__setitem__(2, nn.MaxPool2d(2))),
     "layer 2 is MaxPool2d, but layer 2 of the cnnbook model is AvgPool2d"),
    (edited(lambda m, L: L.__setitem__(3, nn.Conv2d(6, 16, 3, padding=1))),
     "copy in and out channels, kernel_size, stride and padding"),
    (edited(lambda m, L: _set(L, 7, weight=torch.tensor(m[7].weight.data))),
     "nn.Linear keeps its weight as (out_features, in_features)"),
    (edited(lambda m, L: _set(L, 7, weight=torch.tensor(m[7].weight.data.reshape(10, 576)))),
     "a reshape keeps the numbers in memory order"),
    (edited(lambda m, L: L.__setitem__(3, nn.Conv2d(6, 16, 3))), "layer 3's weight is not the cnnbook layer's"),
    (edited(lambda m, L: L[0].bias.data.zero_()), "layer 0's weight is right but its bias is not"),
    (edited(lambda m, L: _set(L, 0, weight=torch.from_numpy(m[0].weight.data))),
     "shares its memory with the cnnbook model's array"),
], ids=["None", "list", "missing Flatten", "max for average pooling", "padding", "not transposed", "reshaped",
        "weights not copied", "bias not copied", "shared memory"])
def test_port_to_torch_mistakes_are_named(wrong, hint):
    rejects(exercises.check_port_to_torch, wrong, hint)


def test_port_to_torch_stub_is_not_done_yet_and_hands_back_the_reference(capsys):
    def stub(model):
        raise NotImplementedError("Your turn: port_to_torch: replace this with your solution")
    assert (exercises.check_port_to_torch(stub) is to_torch
            or exercises.check_port_to_torch(stub).__name__ == "port_to_torch")
    assert "not done yet: port_to_torch" in capsys.readouterr().err


def test_port_to_torch_is_checked_on_the_default_backend(xp, capsys):
    """On CuPy (and its strict stand-in) the hidden models live on the device; a port through to_numpy passes."""
    assert exercises.check_port_to_torch(port_to_torch) is port_to_torch
    model = exercise_cnn(seed=0)
    assert backend.get_array_module(model[0].weight.data) is xp
    assert "correct: port_to_torch" in capsys.readouterr().out
