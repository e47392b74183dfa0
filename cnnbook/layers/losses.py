"""Losses on class scores: softmax cross-entropy and the multiclass SVM (hinge) loss.

Both take ``scores`` ``(N, K)`` (floating) and ``y`` ``(N,)`` (integer class indices in ``[0, K)``),
return ``(loss, dscores)``: the mean loss over the batch as a Python float, and its gradient
``(N, K)`` in ``scores``' dtype.
"""
from __future__ import annotations

from cnnbook.backend import get_array_module
from cnnbook.course.language import tr
from cnnbook.layers import checks


def _check_scores_labels(scores, y):
    xp = get_array_module(scores, y)
    checks.array(scores, "scores", ("N", "K"))
    checks.array(y, "y", ("N",), floating=False)
    if y.dtype.kind not in "iu":
        raise TypeError(tr("y has dtype {dtype}; it must hold integer class indices, e.g. y.astype('int64')",
                           dtype=y.dtype))
    N, K = scores.shape
    if y.shape[0] != N:
        raise ValueError(tr("scores has {N} rows (scores.shape={shape}) but y has {labels} labels; give one label "
                            "per example", N=N, shape=tuple(scores.shape), labels=y.shape[0]))
    if N == 0:
        raise ValueError(tr("scores is empty (N = 0); the mean loss of no examples is undefined"))
    lo, hi = int(y.min()), int(y.max())  # one host sync, to name the bad labels
    if lo < 0 or hi >= K:
        bad = lo if lo < 0 else hi
        raise ValueError(tr("label {bad} in y is out of range for K={K} classes (scores.shape={shape}); labels "
                            "must lie in [0, {last}]", bad=bad, K=K, shape=tuple(scores.shape), last=K - 1))
    return xp, N, K


def softmax_cross_entropy(scores, y):
    """Softmax cross-entropy, mean over the batch: ``-mean(log softmax(scores)[n, y[n]])``.

    Stable for large scores (e.g. +-1000): each row is shifted by its maximum before ``exp``, which
    changes nothing mathematically. ``dscores = (softmax(scores) - onehot(y)) / N``.
    """
    xp, N, K = _check_scores_labels(scores, y)
    rows = xp.arange(N)
    shifted = scores - scores.max(axis=1, keepdims=True)  # (N, K), max entry 0: exp cannot overflow
    log_norm = xp.log(xp.exp(shifted).sum(axis=1, keepdims=True))  # (N, 1)
    log_probs = shifted - log_norm  # (N, K)
    loss = -float(log_probs[rows, y].mean())
    dscores = xp.exp(log_probs)  # (N, K), the softmax
    dscores[rows, y] -= 1  # each row indexed once, so a plain fancy-index update is exact
    dscores /= N
    return loss, dscores


def svm_loss(scores, y):
    """Multiclass SVM (hinge) loss with margin 1, mean over the batch.

    ``loss = mean_n sum_{k != y[n]} max(0, scores[n, k] - scores[n, y[n]] + 1)``; each violated margin adds
    ``+1/N`` to ``dscores[n, k]`` and ``-1/N`` to ``dscores[n, y[n]]``.
    """
    xp, N, K = _check_scores_labels(scores, y)
    rows = xp.arange(N)
    correct = scores[rows, y][:, None]  # (N, 1)
    margins = xp.maximum(scores - correct + 1, 0)  # (N, K)
    margins[rows, y] = 0  # the correct class is not compared with itself
    loss = float(margins.sum()) / N
    violated = (margins > 0).astype(scores.dtype)  # (N, K)
    violated[rows, y] = -violated.sum(axis=1)
    return loss, violated / N
