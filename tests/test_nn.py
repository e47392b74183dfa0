"""cnnbook.nn: modules, parameters, gradients, summary, saving."""
import math
import os

import numpy as np
import pytest

from cnnbook import backend, nn
from cnnbook.gradcheck import eval_numerical_gradient, rel_error


def small_net(rng=0, dtype=np.float64):
    gen = np.random.default_rng(rng)
    return nn.Sequential(nn.Conv2d(2, 3, 3, padding=1, rng=gen, dtype=dtype), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(3, 4, 3, stride=1, padding=1, rng=gen, dtype=dtype), nn.ReLU(),
                         nn.AvgPool2d(2), nn.Flatten(), nn.Linear(4, 5, rng=gen, dtype=dtype))


def test_backward_matches_numerical_gradients(xp):
    model = small_net()
    x = backend.to_device(np.random.default_rng(1).normal(size=(2, 2, 4, 4)), xp)  # (N, C, H, W)
    r = backend.to_device(np.random.default_rng(2).normal(size=(2, 5)), xp)
    loss = lambda _: float((model(x) * r).sum())  # noqa: E731  (d loss / d out = r; x or a weight nudged in place)
    out = model(x)
    assert backend.get_array_module(out) is xp and out.shape == (2, 5)
    model.zero_grad()
    dx = model.backward(r)
    assert backend.get_array_module(dx) is xp and dx.shape == x.shape
    assert rel_error(dx, eval_numerical_gradient(loss, x, h=1e-6)) < 1e-6
    for name, p in model.named_parameters():
        assert backend.get_array_module(p.data) is xp and backend.get_array_module(p.grad) is xp
        assert rel_error(p.grad, eval_numerical_gradient(loss, p.data, h=1e-6)) < 1e-6, name


def test_gradients_accumulate_until_zero_grad(xp):
    model = small_net()
    x = xp.ones((1, 2, 4, 4))
    dout = xp.ones((1, 5))
    model(x)
    model.zero_grad()
    model.backward(dout)
    first = [backend.to_numpy(p.grad).copy() for p in model.parameters()]
    model.backward(dout)
    for g, p in zip(first, model.parameters()):
        np.testing.assert_allclose(backend.to_numpy(p.grad), 2 * g)
    model.zero_grad()
    assert all(float(abs(p.grad).max()) == 0 for p in model.parameters())


def test_parameters_live_on_the_default_backend_as_float32(xp):
    conv = nn.Conv2d(3, 8, 5, rng=0)
    assert backend.get_array_module(conv.weight.data) is xp
    assert conv.weight.shape == (8, 3, 5, 5) and conv.bias.shape == (8,)
    assert conv.weight.data.dtype == np.float32 and conv.weight.grad.dtype == np.float32
    y = conv(xp.zeros((2, 3, 9, 9), dtype=np.float32))
    assert y.shape == (2, 8, 5, 5) and backend.get_array_module(y) is xp


def test_he_initialisation_and_seeding():
    lin = nn.Linear(2000, 300, rng=0)
    w = backend.to_numpy(lin.weight.data)
    assert w.shape == (2000, 300)
    assert abs(w.std() - math.sqrt(2 / 2000)) < 0.02 * math.sqrt(2 / 2000)
    assert not backend.to_numpy(lin.bias.data).any()
    again = nn.Linear(2000, 300, rng=0)
    np.testing.assert_array_equal(backend.to_numpy(again.weight.data), w)
    other = nn.Linear(2000, 300, rng=np.random.default_rng(1))
    assert not np.array_equal(backend.to_numpy(other.weight.data), w)
    conv = nn.Conv2d(16, 32, 3, rng=0)
    assert abs(backend.to_numpy(conv.weight.data).std() - math.sqrt(2 / 144)) < 0.05 * math.sqrt(2 / 144)


@pytest.mark.parametrize("rng", ["0", 1.5, True])
def test_bad_rng_is_a_type_error(rng):
    with pytest.raises(TypeError, match="rng="):
        nn.Linear(3, 4, rng=rng)


@pytest.mark.parametrize("make, match", [
    (lambda: nn.Conv2d(0, 4, 3), "in_channels=0"),
    (lambda: nn.Conv2d(1, 4, 3, stride=0), "stride=0"),
    (lambda: nn.Conv2d(1, 4, 3, padding=-1), "padding=-1"),
    (lambda: nn.Linear(3, 2.5), "out_features=2.5"),
    (lambda: nn.MaxPool2d(0), "kernel_size=0"),
])
def test_bad_constructor_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_bad_inputs_name_the_fix():
    conv = nn.Conv2d(1, 4, 3, rng=0)
    with pytest.raises(ValueError, match=r"\(N, 1, H, W\).*\(2, 3, 8, 8\)"):
        conv(np.zeros((2, 3, 8, 8), np.float32))
    with pytest.raises(TypeError, match="float64 input.*float32"):
        conv(np.zeros((2, 1, 8, 8)))
    lin = nn.Linear(10, 2, rng=0)
    with pytest.raises(ValueError, match="set in_features=12"):
        lin(np.zeros((4, 3, 2, 2), np.float32))
    with pytest.raises(RuntimeError, match="before forward"):
        nn.Linear(3, 2, rng=0).backward(np.zeros((1, 2), np.float32))
    with pytest.raises(TypeError, match="not a Module"):
        nn.Sequential(nn.ReLU(), nn.ReLU)


def test_flatten_and_global_average_pool(xp):
    x = backend.to_device(np.arange(2 * 3 * 2 * 2, dtype=np.float32).reshape(2, 3, 2, 2), xp)
    gap = nn.GlobalAvgPool2d()
    out = gap(x)
    np.testing.assert_allclose(backend.to_numpy(out), backend.to_numpy(x).mean(axis=(2, 3)))
    dx = gap.backward(xp.ones((2, 3), dtype=np.float32))
    assert dx.shape == x.shape and np.allclose(backend.to_numpy(dx), 0.25)
    flat = nn.Flatten()
    assert flat(x).shape == (2, 12) and flat.backward(flat(x)).shape == x.shape


class TwoBranch(nn.Module):
    """A user-written module holding a list of modules: its parameters are found without registration."""

    def __init__(self):
        self.branches = [nn.Linear(3, 2, rng=0), nn.Linear(3, 2, rng=1)]
        self.scale = nn.Parameter(np.ones(1, np.float32))

    def forward(self, x):
        return self.branches[0](x) + self.branches[1](x)

    def backward(self, dout):
        return self.branches[0].backward(dout) + self.branches[1].backward(dout)


def test_subclass_parameters_names_and_modes():
    model = nn.Sequential(TwoBranch(), nn.ReLU(), nn.Linear(2, 1, rng=2))
    names = [n for n, _ in model.named_parameters()]
    assert names == ["0.scale", "0.branches.0.weight", "0.branches.0.bias", "0.branches.1.weight",
                     "0.branches.1.bias", "2.weight", "2.bias"]
    assert model.num_parameters() == 1 + 2 * (6 + 2) + 3
    assert model.eval() is model and not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())
    assert "Linear(3, 2)" in repr(model)


def test_to_changes_dtype():
    model = small_net(dtype=np.float32).to(dtype=np.float64)
    assert all(p.data.dtype == np.float64 and p.grad.dtype == np.float64 for p in model.parameters())
    assert model(np.zeros((1, 2, 4, 4))).dtype == np.float64


def test_summary_counts_parameters_and_shapes(xp):
    model = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1, rng=0), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                          nn.Linear(8 * 14 * 14, 10, rng=1))
    s = nn.summary(model, (1, 28, 28))
    assert [row[2] for row in s.rows] == [("N", 8, 28, 28), ("N", 8, 28, 28), ("N", 8, 14, 14),
                                          ("N", 1568), ("N", 10)]
    assert [row[3] for row in s.rows] == [8 * 9 + 8, 0, 0, 0, 1568 * 10 + 10]
    assert s.total_params == 8 * 9 + 8 + 15690 == model.num_parameters()
    text = repr(s)
    assert "total parameters: 15,770" in text and "(N, 8, 14, 14)" in text


def test_save_load_round_trip(tmp_path, xp):
    model = small_net(rng=0, dtype=np.float32)
    path = tmp_path / "net.npz"
    model.save(path)
    assert os.listdir(tmp_path) == ["net.npz"]  # no temporary file left behind
    other = small_net(rng=5, dtype=np.float32).load(path)
    for (n1, p1), (n2, p2) in zip(model.named_parameters(), other.named_parameters()):
        assert n1 == n2 and backend.get_array_module(p2.data) is xp and p2.data.dtype == np.float32
        np.testing.assert_array_equal(backend.to_numpy(p1.data), backend.to_numpy(p2.data))
    state = model.state_dict()
    assert set(state) == {n for n, _ in model.named_parameters()}
    assert all(type(v) is np.ndarray for v in state.values())


def test_load_errors_are_clear_and_change_nothing(tmp_path):
    model = small_net(rng=0, dtype=np.float32)
    path = tmp_path / "net.npz"
    model.save(path)
    wider = nn.Sequential(nn.Conv2d(2, 6, 3, padding=1, rng=0), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(6, 4, 3, padding=1, rng=0), nn.ReLU(), nn.AvgPool2d(2), nn.Flatten(),
                          nn.Linear(4, 5, rng=0))
    before = backend.to_numpy(wider[0].weight.data).copy()
    with pytest.raises(ValueError, match=r"0.weight: file \(3, 2, 3, 3\), model \(6, 2, 3, 3\)"):
        wider.load(path)
    np.testing.assert_array_equal(backend.to_numpy(wider[0].weight.data), before)
    with pytest.raises(ValueError, match=r"missing \['9.bias', '9.weight'\]"):
        nn.Sequential(*small_net().layers, nn.ReLU(), nn.Linear(5, 2, rng=0)).load(path)
    with pytest.raises(FileNotFoundError, match="no model file"):
        model.load(tmp_path / "absent.npz")
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"not a zip file at all")
    with pytest.raises(ValueError, match="not a parameter file"):
        model.load(garbage)
    single = tmp_path / "single.npy"
    np.save(single, np.zeros(3))
    with pytest.raises(ValueError, match="single array"):
        model.load(single)
    pickled = tmp_path / "pickled.npz"
    np.savez(pickled, **{"0.weight": np.array([{"a": 1}], dtype=object)})
    with pytest.raises(ValueError, match="pickle"):
        model.load(pickled)


def test_shape_free_modules_name_a_wrong_dout():
    flatten, gap = nn.Flatten(), nn.GlobalAvgPool2d()
    flatten(np.zeros((2, 3, 4, 4), np.float32))
    gap(np.zeros((2, 3, 4, 4), np.float32))
    with pytest.raises(ValueError, match=r"dout has shape \(2, 47\) but Flatten.forward's output had shape \(2, 48\)"):
        flatten.backward(np.zeros((2, 47), np.float32))
    with pytest.raises(ValueError, match=r"dout has shape \(2, 4\) but GlobalAvgPool2d.forward's output had "
                                         r"shape \(2, 3\)"):
        gap.backward(np.zeros((2, 4), np.float32))


def test_linear_asks_for_a_batch():
    with pytest.raises(ValueError, match=r"expects a batch.*shape \(4,\).*x\[None\]"):
        nn.Linear(4, 2)(np.zeros(4, np.float32))


@pytest.mark.parametrize("make", [
    lambda dt: nn.Conv2d(3, 4, 3, dtype=dt),
    lambda dt: nn.Linear(3, 4, dtype=dt),
    lambda dt: nn.Linear(3, 4, rng=0).to(dtype=dt),
], ids=["Conv2d", "Linear", "to"])
@pytest.mark.parametrize("dtype", [np.int32, np.int64, bool, np.complex64, "U3"])
def test_non_float_dtypes_are_refused(make, dtype):
    with pytest.raises(TypeError, match=r"dtype=.*not a floating-point dtype.*float32"):
        make(dtype)


def test_parameters_must_be_floating_point():
    with pytest.raises(TypeError, match="Parameter dtype=int64"):
        nn.Parameter(np.zeros(3, np.int64))


def test_flatten_keeps_an_empty_batch(xp):
    x = backend.to_device(np.zeros((0, 3, 4, 4), np.float32), xp)
    flatten = nn.Flatten()
    out = flatten(x)
    assert out.shape == (0, 48)
    assert flatten.backward(out).shape == (0, 3, 4, 4)
    with pytest.raises(ValueError, match="Flatten expects a batch"):
        flatten(np.float32(1.0))


def test_backward_params_fills_the_same_gradients_without_the_input_gradient(xp):
    # What fit runs: the parameters' gradients of backward(), bit for bit, and nothing for the input.
    model = small_net(dtype=np.float32)
    x = backend.to_device(np.random.default_rng(1).normal(size=(2, 2, 4, 4)).astype(np.float32), xp)
    r = backend.to_device(np.random.default_rng(2).normal(size=(2, 5)).astype(np.float32), xp)
    model(x)
    model.zero_grad()
    model.backward(r)
    full = [backend.to_numpy(p.grad).copy() for p in model.parameters()]
    model.zero_grad()
    assert model.backward_params(r) is None
    for got, want in zip((backend.to_numpy(p.grad) for p in model.parameters()), full):
        np.testing.assert_array_equal(got, want)


def test_backward_params_skips_the_layers_before_the_first_with_parameters(monkeypatch):
    calls = []

    class Spy(nn.Module):  # no parameters; its backward must not run
        def forward(self, x):
            return x

        def backward(self, dout):
            calls.append("spy")
            return dout
    model = nn.Sequential(Spy(), nn.Flatten(), nn.Linear(8, 3, rng=0), nn.ReLU(), nn.Linear(3, 2, rng=1))
    x = np.random.default_rng(0).normal(size=(4, 2, 2, 2)).astype(np.float32)
    dout = np.ones((4, 2), np.float32)
    model(x)
    model.zero_grad()
    model.backward(dout)
    want = [p.grad.copy() for p in model.parameters()]
    calls.clear()
    model.zero_grad()
    model.backward_params(dout)  # the first Linear runs Module.backward_params: its backward, dx dropped
    assert calls == []
    for p, g in zip(model.parameters(), want):
        np.testing.assert_array_equal(p.grad, g)
    nn.Sequential(Spy(), nn.ReLU()).backward_params(dout)  # nothing to learn: nothing runs
    assert calls == []
