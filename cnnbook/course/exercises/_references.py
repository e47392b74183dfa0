"""The package's answer to each function exercise, with the signature the exercise asks the learner for.

While an exercise is not done yet, its check hands one of these back, so the lesson's later cells run on
(``softmax_loss = check_softmax_loss(softmax_loss)``; see :mod:`cnnbook.course.exercises._flow`). Each is a
thin adapter over the package's own code (:mod:`cnnbook.layers`, :mod:`cnnbook.nn`) or over the reference the
check itself compares with, so the workbook keeps one version of each computation.
"""
from __future__ import annotations

import numpy as np

from cnnbook import backend, layers
from cnnbook.course.exercises.conv import _floor_forward
from cnnbook.course.exercises.deeper import (_im2col_reference, dilated_receptive_field_reference,
                                             local_param_count_reference)
from cnnbook.course.exercises.models import _patchify_reference


def softmax_loss(scores, y):
    """01: mean softmax cross-entropy of ``scores`` (N, K) for labels ``y`` (N,) -> ``(loss, dscores)``."""
    return layers.softmax_cross_entropy(scores, y)


def relu_backward(dout, x):
    """02: ``dout`` where ``x > 0``, zero elsewhere."""
    return layers.relu_backward(dout, x)


def sgd_step(w, dw, lr):
    """02: a new array ``w - lr * dw``."""
    return w - lr * dw


def conv_forward_naive(x, w, b, stride=1, padding=0):
    """03: ``x`` (N, C, H, W), ``w`` (F, C, KH, KW), ``b`` (F,) -> ``out`` (N, F, Ho, Wo), with the exercise's
    ``Ho = (H - KH + 2 * padding) // stride + 1`` (windows that would hang off the edge are left out)."""
    return _floor_forward(x, w, b, stride, padding)


def conv_output_size(input_size, kernel_size, stride=1, padding=0):
    """04: ``(W - K + 2P) / S + 1``; ``ValueError`` when it is not a whole number >= 1."""
    return layers.conv_output_size(input_size, kernel_size, stride, padding)


def build_model():
    """04: two conv + pool stages, ``(N, 1, 28, 28) -> (N, 16, 7, 7)``."""
    from cnnbook import nn
    return nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))


def receptive_field(stack):
    """05: the side length in input pixels that one unit of the last layer sees; ``(kernel, stride)`` pairs."""
    return layers.receptive_field(stack)


def dilated_receptive_field(stack):
    """05: the same for ``(kernel, stride, dilation)`` triples."""
    return dilated_receptive_field_reference(stack)


def max_pool_forward(x, kernel_size=2, stride=None):
    """06: ``x`` (N, C, H, W) -> the max of each window, (N, C, Ho, Wo)."""
    return layers.max_pool2d_forward(x, kernel_size, stride)[0]


def max_pool_backward(dout, x, kernel_size=2, stride=None):
    """06: ``dout`` (N, C, Ho, Wo), ``x`` (N, C, H, W) -> ``dx`` (N, C, H, W)."""
    _, cache = layers.max_pool2d_forward(x, kernel_size, stride)
    return layers.max_pool2d_backward(dout, cache)


def conv_backward_naive(dout, x, w, stride=1, padding=0):
    """07: -> ``(dx, dw, db)`` of the convolution of ``x`` with ``w``."""
    xp = backend.get_array_module(x)
    _, cache = layers.conv2d_forward(x, w, xp.zeros(w.shape[0], dtype=w.dtype), stride=stride, padding=padding)
    return layers.conv2d_backward(dout, cache)


def im2col(x, kernel_size, stride=1, padding=0):
    """07: ``x`` (N, C, H, W) -> ``cols`` (N, C*K*K, Ho*Wo), column ``i*Wo + j`` the window (i, j)."""
    return _im2col_reference(x.astype("float64"), kernel_size, stride, padding).astype(x.dtype)  # exact: sums of x * 1


def conv_param_count(in_channels, out_channels, kernel_size):
    """08: the weight (F, C, K, K) plus the bias (F,) of ``Conv2d(in_channels, out_channels, kernel_size)``."""
    return out_channels * in_channels * kernel_size * kernel_size + out_channels


def shift_error(feature_fn, x, k):
    """09: the largest ``|feature_fn(shift(x, k)) - shift(feature_fn(x), k)|`` over columns ``k .. W-k-1``."""
    from cnnbook.data.augment import shift
    xp = backend.get_array_module(x)
    a = feature_fn(shift(x, 0, k))  # (N, F, H, W)
    b = shift(feature_fn(x), 0, k)  # (N, F, H, W)
    W = a.shape[-1]
    return float(xp.abs(a - b)[..., k:W - k].max())


def local_param_count(in_channels, out_channels, kernel_size, input_size, stride=1, padding=0):
    """09: weights (Ho, Wo, F, C, K, K) plus biases (F, Ho, Wo) of a locally connected layer."""
    return local_param_count_reference(in_channels, out_channels, kernel_size, input_size, stride, padding)


def patchify(x, patch_size):
    """10: ``x`` (N, C, H, W) -> (N, T, C*P*P), patches numbered row by row, each flattened (C, P, P)."""
    return _patchify_reference(x.astype("float64"), patch_size).astype(x.dtype)  # exact: sums of x * 1


def cue_conflict_fraction(pred, shape_labels, texture_labels):
    """11: the fractions of the conflict images (shape label != texture label) answered by shape, by texture."""
    conflict = shape_labels != texture_labels  # (N,) bool
    return float((pred == shape_labels)[conflict].mean()), float((pred == texture_labels)[conflict].mean())


def kfold_indices(num_samples, k, seed=0):
    """12: ``[(train_idx, val_idx), ...]``, ``k`` folds of a shuffle drawn from ``seed``."""
    parts = np.array_split(np.random.default_rng(seed).permutation(num_samples), k)
    return [(np.concatenate(parts[:i] + parts[i + 1:]), parts[i]) for i in range(k)]


def port_to_torch(model):
    """13: ``torch.nn.Sequential`` with ``model``'s layers and a copy of its weights (needs PyTorch)."""
    from cnnbook.models.torch_port import to_torch
    return to_torch(model)
