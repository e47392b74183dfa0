"""cnnbook.models: shapes, parameter counts, the initial-loss sanity check."""
import math

import numpy as np
import pytest

from cnnbook import backend, nn
from cnnbook.data import load_fashion_mnist
from cnnbook.layers import softmax_cross_entropy
from cnnbook.models import linear_classifier, reference_cnn, two_layer_mlp


@pytest.mark.parametrize("make, params", [
    (linear_classifier, 784 * 10 + 10),
    (lambda seed: two_layer_mlp(hidden=50, seed=seed), 784 * 50 + 50 + 50 * 10 + 10),
    (reference_cnn, (16 * 9 + 16) + (32 * 16 * 9 + 32) + (32 * 7 * 7 * 10 + 10)),
])
def test_shapes_parameters_and_initial_loss(make, params, xp):
    model = make(seed=0)
    assert model.num_parameters() == params
    X, y = load_fashion_mnist("train")
    X, y = backend.to_device(backend.to_numpy(X[::60]), xp), backend.to_device(backend.to_numpy(y[::60]), xp)
    scores = model(X)
    assert scores.shape == (200, 10) and backend.get_array_module(scores) is xp
    loss, _ = softmax_cross_entropy(scores, y)
    # Small last-layer weights: every class starts equally likely, loss = ln(10) (CS231n's sanity check).
    assert abs(float(loss) - math.log(10)) < 0.02


def test_reference_cnn_layout():
    model = reference_cnn(seed=0)
    table = nn.summary(model, (1, 28, 28))
    assert [row[2] for row in table.rows][::3] == [("N", 16, 28, 28), ("N", 32, 14, 14), ("N", 1568)]
    assert [type(m).__name__ for m in model] == ["Conv2d", "ReLU", "MaxPool2d"] * 2 + ["Flatten", "Linear"]
    wide = reference_cnn(channels=(8, 16, 32), kernel_size=5, input_shape=(3, 32, 32), num_classes=4, seed=1)
    assert wide(np.zeros((2, 3, 32, 32), np.float32)).shape == (2, 4)
    np.testing.assert_array_equal(backend.to_numpy(reference_cnn(seed=3)[3].weight.data),
                                  backend.to_numpy(reference_cnn(seed=3)[3].weight.data))


@pytest.mark.parametrize("make, match", [
    (lambda: reference_cnn(kernel_size=4), "kernel_size=4 must be odd"),
    (lambda: reference_cnn(channels=()), "at least one conv layer"),
    (lambda: linear_classifier(input_shape=(28, 28)), r"input_shape=\(28, 28\)"),
])
def test_bad_model_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make()
