"""The workbook's models for 1x28x28 Fashion-MNIST images and 10 classes.

* :func:`linear_classifier`: one ``Linear`` layer on the 784 pixels (notebook 01).
* :func:`two_layer_mlp`: ``Linear-ReLU-Linear`` (notebook 02).
* :func:`reference_cnn`: ``[CONV-RELU-POOL] x 2 + FC``, the CNN of notebook 08 and of
  ``python -m cnnbook train``.

The last layer starts with small weights (``weight_scale=LAST_LAYER_SCALE``), so every class starts
equally likely and the initial loss is close to ``ln(10)``: CS231n's first sanity check.
Each takes ``seed`` (int or ``numpy.random.Generator``): the same seed gives the same weights on
every backend.
"""
from __future__ import annotations

import numpy as np

from cnnbook.backend import as_generator
from cnnbook.course.language import tr
from cnnbook.layers import conv_output_size
from cnnbook.nn import Conv2d, Flatten, Linear, MaxPool2d, ReLU, Sequential

LAST_LAYER_SCALE = 1e-3


def _shape(input_shape):
    if len(input_shape) != 3:
        raise ValueError(tr("input_shape={input_shape} must be (C, H, W), e.g. (1, 28, 28)",
                            input_shape=repr(input_shape)))
    return tuple(int(s) for s in input_shape)


def linear_classifier(input_shape=(1, 28, 28), num_classes=10, *, seed=0, dtype=np.float32) -> Sequential:
    """``Flatten -> Linear(C*H*W, num_classes)``: scores ``(N, num_classes)`` from images ``(N, C, H, W)``."""
    C, H, W = _shape(input_shape)
    return Sequential(Flatten(), Linear(C * H * W, num_classes, rng=as_generator(seed), dtype=dtype,
                                             weight_scale=LAST_LAYER_SCALE))


def two_layer_mlp(hidden=100, input_shape=(1, 28, 28), num_classes=10, *, seed=0, dtype=np.float32) -> Sequential:
    """``Flatten -> Linear(C*H*W, hidden) -> ReLU -> Linear(hidden, num_classes)``."""
    C, H, W = _shape(input_shape)
    rng = as_generator(seed)
    return Sequential(Flatten(), Linear(C * H * W, hidden, rng=rng, dtype=dtype), ReLU(),
                      Linear(hidden, num_classes, rng=rng, dtype=dtype, weight_scale=LAST_LAYER_SCALE))


def reference_cnn(channels=(16, 32), kernel_size=3, input_shape=(1, 28, 28), num_classes=10, *,
                  seed=0, dtype=np.float32) -> Sequential:
    """``[Conv(k, 'same' padding) -> ReLU -> MaxPool(2)] x len(channels) -> Flatten -> Linear``.

    With the defaults on ``(N, 1, 28, 28)``: ``(N, 16, 28, 28) -> (N, 16, 14, 14) -> (N, 32, 14, 14)
    -> (N, 32, 7, 7) -> (N, 1568) -> (N, 10)``. ``kernel_size`` must be odd (so padding keeps the size).
    """
    C, H, W = _shape(input_shape)
    if kernel_size % 2 != 1:
        raise ValueError(tr("kernel_size={kernel_size} must be odd so that padding (k - 1) / 2 keeps the size",
                            kernel_size=repr(kernel_size)))
    if not channels:
        raise ValueError(tr("channels must list at least one conv layer's output channels, e.g. (16, 32)"))
    rng = as_generator(seed)
    pad = kernel_size // 2
    stages = []
    for F in channels:
        stages += [Conv2d(C, F, kernel_size, padding=pad, rng=rng, dtype=dtype), ReLU(), MaxPool2d(2)]
        C = F
        H = conv_output_size(H, 2, 2)
        W = conv_output_size(W, 2, 2)
    return Sequential(*stages, Flatten(), Linear(C * H * W, num_classes, rng=rng, dtype=dtype,
                                                    weight_scale=LAST_LAYER_SCALE))
