"""cnnbook's models in PyTorch: the bridge of notebook 13, from "I wrote it" to "I use it".

PyTorch is optional (the ``[torch]`` extra): nothing here imports it at module level, and ``import cnnbook``
never does. :func:`require_torch` imports it, or stops a notebook with a short message saying how to install it
(no traceback). :func:`to_torch` turns a :class:`cnnbook.nn.Sequential` of the layers the workbook teaches into
a ``torch.nn.Sequential`` holding a copy of its weights, so both compute the same function. It is the reference
the exercise of notebook 13 is checked against.

Layouts: a conv weight is ``(F, C, KH, KW)`` in both; a fully connected weight is ``(D, M)`` in cnnbook
(CS231n's ``out = x @ w + b``) and ``(M, D)`` in ``torch.nn.Linear`` (``out = x @ w.T + b``), so it is copied
transposed.
"""
from __future__ import annotations

import numpy as np

from cnnbook import backend
from cnnbook.backend import as_generator
from cnnbook.course.language import tr
from cnnbook.nn import AvgPool2d, Conv2d, Flatten, Linear, MaxPool2d, ReLU, Sequential


class TorchMissing(ImportError):
    """PyTorch is not installed; the message says how to install it."""

    def _render_traceback_(self):
        """How IPython shows it: the message alone, no traceback (nothing went wrong in the learner's code)."""
        return str(self).splitlines()


def require_torch():
    """``torch``, imported; :class:`TorchMissing` with the install commands when it is not installed."""
    try:
        import torch
    except ImportError:
        raise TorchMissing(tr(
            "PyTorch is not installed. This notebook needs it; the rest of the workbook does not.\n"
            "Install the CPU build (about 200 MB to download, enough for this notebook):\n"
            "    pip install torch --index-url https://download.pytorch.org/whl/cpu\n"
            "or, for an NVIDIA GPU, the CUDA build that https://pytorch.org/get-started/locally/ names for your "
            "driver (several GB with its CUDA libraries). Then restart the kernel and run the notebook again.")
        ) from None
    return torch


def exercise_cnn(seed=0, dtype=np.float32) -> Sequential:
    """The small CNN that notebook 13's exercise ports to PyTorch, with weights and biases drawn from ``seed``.

    ``Conv(1 -> 6, 5x5, padding 2) -> ReLU -> AvgPool(2) -> Conv(6 -> 16, 3x3) -> ReLU -> MaxPool(2) -> Flatten
    -> Linear(576, 10)``: on ``(N, 1, 28, 28)``, ``(N, 6, 28, 28) -> (N, 6, 14, 14) -> (N, 16, 12, 12) ->
    (N, 16, 6, 6) -> (N, 576) -> (N, 10)``. The biases are drawn too (a fresh layer's are zero), so a port that
    forgets them computes something else.
    """
    rng = as_generator(seed)
    model = Sequential(Conv2d(1, 6, 5, padding=2, rng=rng, dtype=dtype), ReLU(), AvgPool2d(2),
                       Conv2d(6, 16, 3, rng=rng, dtype=dtype), ReLU(), MaxPool2d(2),
                       Flatten(), Linear(16 * 6 * 6, 10, rng=rng, dtype=dtype))
    for layer in model:
        if isinstance(layer, (Conv2d, Linear)):
            bias = 0.1 * rng.standard_normal(layer.bias.data.shape)
            layer.bias.data = backend.to_device(bias.astype(dtype), backend.get_array_module(layer.bias.data))
    return model


def _tensor(torch, a):
    """A torch tensor holding a host copy of cnnbook array ``a`` (NumPy or CuPy): never shared memory."""
    return torch.tensor(np.ascontiguousarray(backend.to_numpy(a)))


def to_torch(model):
    """``torch.nn.Sequential`` with ``model``'s layers and a copy of its weights (``model`` is left unchanged).

    ``model``: a :class:`cnnbook.nn.Sequential` (nested ones too) of ``Conv2d``, ``Linear``, ``ReLU``,
    ``MaxPool2d``, ``AvgPool2d`` and ``Flatten``; another layer raises ``TypeError`` naming it. The result keeps
    the weights' dtype and lives on the CPU (``.to(device)`` moves it).
    """
    torch = require_torch()
    nn = torch.nn
    if isinstance(model, Sequential):
        return nn.Sequential(*(_layer(torch, layer) for layer in model))
    return nn.Sequential(_layer(torch, model))


def _layer(torch, layer):
    nn = torch.nn
    if isinstance(layer, Sequential):
        return to_torch(layer)
    if isinstance(layer, Conv2d):
        out = nn.Conv2d(layer.in_channels, layer.out_channels, layer.kernel_size, stride=layer.stride,
                        padding=layer.padding, dtype=_dtype(torch, layer.weight.data))
        weight, bias = layer.weight.data, layer.bias.data            # (F, C, KH, KW), (F,): the same layout
    elif isinstance(layer, Linear):
        out = nn.Linear(layer.in_features, layer.out_features, dtype=_dtype(torch, layer.weight.data))
        weight, bias = layer.weight.data.T, layer.bias.data          # cnnbook (D, M) -> torch (M, D)
    elif isinstance(layer, ReLU):
        return nn.ReLU()
    elif isinstance(layer, AvgPool2d):                               # before MaxPool2d: a subclass of it here
        return nn.AvgPool2d(layer.kernel_size, stride=layer.stride)
    elif isinstance(layer, MaxPool2d):
        return nn.MaxPool2d(layer.kernel_size, stride=layer.stride)
    elif isinstance(layer, Flatten):
        return nn.Flatten()
    else:
        raise TypeError(tr("to_torch has no PyTorch layer for {kind} ({layer!r}); it ports Conv2d, Linear, ReLU, "
                           "MaxPool2d, AvgPool2d, Flatten and Sequential", kind=type(layer).__name__, layer=layer))
    with torch.no_grad():
        out.weight.copy_(_tensor(torch, weight))
        out.bias.copy_(_tensor(torch, bias))
    return out


def _dtype(torch, a):
    return {np.dtype(np.float32): torch.float32, np.dtype(np.float64): torch.float64}[np.dtype(a.dtype)]


__all__ = ["TorchMissing", "require_torch", "exercise_cnn", "to_torch"]
