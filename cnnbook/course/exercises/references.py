"""The package's answer to each function exercise, with the signature the exercise asks the learner for.

While an exercise is not done yet, its check hands one of these back, so the lesson's later cells run on
(``softmax_loss = check_softmax_loss(softmax_loss)``; see :mod:`cnnbook.course.exercises._flow`). The checks
compare the learner's answer with these same functions, so the workbook keeps one version of each computation;
most are thin adapters over the package's own code (:mod:`cnnbook.layers`, :mod:`cnnbook.nn`).
"""
from __future__ import annotations

import numpy as np

from cnnbook import backend, layers


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
    ``Ho = (H - KH + 2 * padding) // stride + 1``: where the stride does not divide, the rows and columns no
    window reaches are left out (the package refuses such sizes, so they are cropped first)."""
    xp = backend.get_array_module(x)
    _, _, H, W = x.shape
    _, _, KH, KW = w.shape
    S, P = stride, padding
    xpad = xp.pad(x, ((0, 0), (0, 0), (P, P), (P, P)))
    rows, cols = (H - KH + 2 * P) // S * S + KH, (W - KW + 2 * P) // S * S + KW  # what the windows cover
    out, _ = layers.conv2d_forward(xpad[:, :, :rows, :cols], w, b, stride=S, padding=0)
    return out


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
    """05: the same for ``(kernel_size, stride, dilation)`` triples, first layer first. A dilated kernel spans
    ``dilation * (K - 1) + 1`` input pixels of its layer, so it adds ``dilation * (K - 1)`` times the jump."""
    field, jump = 1, 1
    for k, s, d in stack:
        field += d * (k - 1) * jump
        jump *= s
    return field


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
    """07: ``x`` (N, C, H, W) -> ``cols`` (N, C*K*K, Ho*Wo), column ``i*Wo + j`` the window (i, j).

    Through the package's convolution with identity filters: filter ``r`` picks number ``r`` of the window
    flattened ``(C, K, K)``, the order of ``w.reshape(F, -1)``, so output channel ``r`` at position ``(i, j)`` is
    row ``r``, column ``i * Wo + j``. Computed in float64 and returned in ``x``'s dtype (exact: sums of x * 1).
    """
    xp = backend.get_array_module(x)
    N, C = x.shape[:2]
    K = kernel_size
    D = C * K * K
    eye = backend.to_device(np.eye(D, dtype=np.float64).reshape(D, C, K, K), xp)
    out, _ = layers.conv2d_forward(x.astype("float64"), eye, backend.to_device(np.zeros(D), xp), stride=stride,
                                   padding=padding)
    return out.reshape(N, D, -1).astype(x.dtype)  # (N, C*K*K, Ho*Wo)


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
    """09: weights ``(Ho, Wo, F, C, K, K)`` plus biases ``(F, Ho, Wo)`` of
    ``LocallyConnected2d(in_channels, out_channels, kernel_size, input_size, stride, padding)``."""
    Ho = layers.conv_output_size(input_size, kernel_size, stride, padding)
    return Ho * Ho * out_channels * in_channels * kernel_size * kernel_size + out_channels * Ho * Ho


def patchify(x, patch_size):
    """10: ``x`` (N, C, H, W) -> (N, T, C*P*P), patches numbered row by row, each flattened (C, P, P).

    Through the package's convolution: identity filters with kernel = stride = P. Filter ``k`` picks the ``k``-th
    number of the flattened ``(C, P, P)`` patch, so output channel ``k`` at grid position ``(i, j)`` is that number
    of patch ``(i, j)``: exactly the ViT's patch embedding with the identity as its weight. Computed in float64
    and returned in ``x``'s dtype (exact: sums of x * 1).
    """
    xp = backend.get_array_module(x)
    N, C, H, W = x.shape
    P = patch_size
    D = C * P * P
    eye = backend.to_device(np.eye(D, dtype=np.float64).reshape(D, C, P, P), xp)
    out, _ = layers.conv2d_forward(x.astype("float64"), eye, backend.to_device(np.zeros(D), xp), stride=P)
    return out.reshape(N, D, -1).transpose(0, 2, 1).astype(x.dtype)  # (N, D, Gh, Gw) -> (N, T, C*P*P)


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
