"""cnnbook.optim: every update rule against a step computed by hand."""
import math

import numpy as np
import pytest

from cnnbook import backend
from cnnbook.nn import Parameter
from cnnbook.optim import SGD, Adam

W0 = np.array([[1.0, -2.0], [0.5, 3.0]])
G1 = np.array([[0.1, 0.2], [-0.3, 0.4]])
G2 = np.array([[-0.5, 0.1], [0.2, 0.0]])


def param(xp, dtype=np.float64):
    p = Parameter(backend.to_device(W0.astype(dtype), xp))
    return p


def two_steps(opt, p, xp):
    """Two steps with gradients G1 then G2; returns the weights after each step (host)."""
    seen = []
    for g in (G1, G2):
        opt.zero_grad()
        p.grad += backend.to_device(g.astype(p.data.dtype), xp)
        opt.step()
        seen.append(backend.to_numpy(p.data).copy())
    return seen


def test_sgd(xp):
    p = param(xp)
    w1, w2 = two_steps(SGD([p], lr=0.1), p, xp)
    np.testing.assert_allclose(w1, W0 - 0.1 * G1)
    np.testing.assert_allclose(w2, W0 - 0.1 * G1 - 0.1 * G2)
    assert backend.get_array_module(p.data) is xp


def test_sgd_weight_decay(xp):
    p = param(xp)
    w1, _ = two_steps(SGD([p], lr=0.1, weight_decay=0.01), p, xp)
    np.testing.assert_allclose(w1, W0 - 0.1 * (G1 + 0.01 * W0))


def test_momentum(xp):
    p = param(xp)
    opt = SGD([p], lr=0.1, momentum=0.9)
    w1, w2 = two_steps(opt, p, xp)
    v1 = G1
    v2 = 0.9 * v1 + G2
    np.testing.assert_allclose(w1, W0 - 0.1 * v1)
    np.testing.assert_allclose(w2, W0 - 0.1 * v1 - 0.1 * v2)
    assert backend.get_array_module(opt.state[0]["velocity"]) is xp


def test_nesterov(xp):
    p = param(xp)
    w1, w2 = two_steps(SGD([p], lr=0.1, momentum=0.9, nesterov=True), p, xp)
    v1 = G1
    v2 = 0.9 * v1 + G2
    np.testing.assert_allclose(w1, W0 - 0.1 * (G1 + 0.9 * v1))
    np.testing.assert_allclose(w2, w1 - 0.1 * (G2 + 0.9 * v2))


def test_adam(xp):
    p = param(xp)
    w1, w2 = two_steps(Adam([p], lr=0.01, betas=(0.9, 0.99), eps=1e-8), p, xp)
    m1, v1 = 0.1 * G1, 0.01 * G1 ** 2
    # First step: the bias-corrected moments are g and g**2, so each weight moves by lr * sign(g).
    np.testing.assert_allclose(w1, W0 - 0.01 * (m1 / 0.1) / (np.sqrt(v1 / 0.01) + 1e-8))
    np.testing.assert_allclose(w1[G1 != 0], (W0 - 0.01 * np.sign(G1))[G1 != 0], rtol=1e-6)
    m2, v2 = 0.9 * m1 + 0.1 * G2, 0.99 * v1 + 0.01 * G2 ** 2
    np.testing.assert_allclose(w2, w1 - 0.01 * (m2 / (1 - 0.9 ** 2)) / (np.sqrt(v2 / (1 - 0.99 ** 2)) + 1e-8))


def test_float32_stays_float32(xp):
    p = param(xp, np.float32)
    for opt in (SGD([p], lr=0.1, momentum=0.9, weight_decay=1e-4), Adam([p], lr=1e-3, weight_decay=1e-4)):
        two_steps(opt, p, xp)
        assert p.data.dtype == np.float32
        assert all(s.dtype == np.float32 for st in opt.state for s in st.values())


def test_updates_in_place_and_lr_can_change():
    p = param(np)
    data = p.data
    opt = SGD([p], lr=0.1)
    opt.lr = 0.5
    p.grad[...] = 1.0
    opt.step()
    assert p.data is data
    np.testing.assert_allclose(p.data, W0 - 0.5)
    opt.zero_grad()
    assert not p.grad.any()


@pytest.mark.parametrize("make, match", [
    (lambda p: SGD(p, lr=0), "lr=0"),
    (lambda p: SGD(p, lr=-1e-3), "lr=-0.001"),
    (lambda p: SGD(p, lr=math.nan), "lr=nan"),
    (lambda p: SGD(p, lr="0.1"), "lr='0.1'"),
    (lambda p: SGD(p, lr=0.1, momentum=1.0), "momentum=1.0"),
    (lambda p: SGD(p, lr=0.1, nesterov=True), "nesterov=True needs momentum"),
    (lambda p: SGD(p, lr=0.1, weight_decay=-1), "weight_decay=-1"),
    (lambda p: Adam(p, betas=(0.9, 1.0)), r"betas\[1\]=1.0"),
    (lambda p: Adam(p, betas=0.9), "betas=0.9"),
    (lambda p: Adam(p, eps=0), "eps=0"),
    (lambda p: Adam([], lr=1e-3), "empty parameter list"),
])
def test_bad_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make([param(np)])


def test_passing_the_model_instead_of_its_parameters():
    from cnnbook.nn import Linear
    with pytest.raises(TypeError, match="model.parameters()"):
        Adam(Linear(2, 2, rng=0))
    with pytest.raises(TypeError, match="parameter 0"):
        SGD([np.zeros(3)], lr=0.1)
