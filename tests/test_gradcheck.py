"""Numerical gradients and relative error: the tools every backward-pass test leans on."""
import numpy as np
import pytest

from cnnbook import backend
from cnnbook.backend import get_array_module
from cnnbook.gradcheck import eval_numerical_gradient, eval_numerical_gradient_array, rel_error


def test_scalar_gradient_of_known_function(xp):
    x = backend.to_device(np.array([[1.0, -2.0], [0.5, 3.0]]), xp)
    grad = eval_numerical_gradient(lambda v: float((v ** 3).sum()), x)
    assert get_array_module(grad) is xp
    assert rel_error(grad, 3 * backend.to_numpy(x) ** 2) < 1e-8
    np.testing.assert_array_equal(backend.to_numpy(x), [[1.0, -2.0], [0.5, 3.0]])  # restored


def test_array_gradient_with_upstream(xp):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((3, 4))
    x = backend.to_device(rng.standard_normal((4, 2)), xp)
    df = backend.to_device(rng.standard_normal((3, 2)), xp)
    a_dev = backend.to_device(a, xp)
    grad = eval_numerical_gradient_array(lambda v: a_dev @ v, x, df)
    assert get_array_module(grad) is xp
    assert rel_error(grad, a.T @ backend.to_numpy(df)) < 1e-8


def test_a_wrong_gradient_is_caught():
    x = np.array([1.0, 2.0, 3.0])
    num = eval_numerical_gradient(lambda v: float((v ** 2).sum()), x)
    assert rel_error(num, 2 * x) < 1e-8
    assert rel_error(num, 2 * x + 1e-3) > 1e-5


def test_rel_error_values():
    assert rel_error(np.array([1.0]), np.array([1.0])) == 0.0
    assert rel_error(np.array([1.0]), np.array([3.0])) == pytest.approx(0.5)
    assert rel_error(np.zeros(3), np.full(3, 1e-12)) < 1e-3  # the floor keeps near-zeros sane
    with pytest.raises(ValueError, match=r"\(2,\) and \(3,\)"):
        rel_error(np.zeros(2), np.zeros(3))


def test_bad_arguments():
    with pytest.raises(TypeError, match="int64"):
        eval_numerical_gradient(lambda v: 0.0, np.arange(3))
    with pytest.raises(ValueError, match="h must be > 0"):
        eval_numerical_gradient(lambda v: 0.0, np.zeros(3), h=0)
    with pytest.raises(ValueError, match=r"df has shape \(2,\)"):
        eval_numerical_gradient_array(lambda v: v, np.zeros(3), np.zeros(2))
