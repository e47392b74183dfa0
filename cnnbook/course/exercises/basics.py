"""Checks for notebooks 01, 02 and 12: softmax loss, ReLU backward, an SGD step, k-fold cross-validation."""
from __future__ import annotations

import numpy as np

from cnnbook import backend, layers
from cnnbook.course.exercises._common import (
    ExerciseError,
    call,
    close,
    compare_array,
    describe_call,
    device,
    passed,
    require_array,
    require_callable,
    require_unchanged,
    rng_for,
)
from cnnbook.course.language import tr
from cnnbook.layers.checks import is_number


def _loss_value(loss, call_text: str, per_example: np.ndarray) -> float:
    if loss is None:
        raise ExerciseError(tr("{call} returned None as the loss; return (loss, dscores)", call=call_text))
    if hasattr(loss, "shape") and np.size(backend.to_numpy(loss)) != 1:
        host = backend.to_numpy(loss)
        if host.shape == per_example.shape and close(host, per_example):
            raise ExerciseError(tr("{call}: the loss has shape {shape}, one value per example; "
                                   "return their mean over the batch, one number", call=call_text, shape=host.shape))
        raise ExerciseError(tr("{call}: the loss has shape {shape}; it should be one number, "
                               "the mean of the per-example losses", call=call_text, shape=host.shape))
    if is_number(loss):
        return float(loss)
    if hasattr(loss, "shape"):  # a 0-d or one-element array, e.g. a CuPy scalar, which lives on the GPU
        raise ExerciseError(tr("{call}: the loss is a {kind} of shape {shape}; return it as a Python float, "
                               "as the docstring asks: float(...) of the mean", call=call_text,
                               kind=type(loss).__name__, shape=tuple(loss.shape)))
    raise ExerciseError(tr("{call}: the loss is a {kind}, not a number", call=call_text, kind=type(loss).__name__))


def check_softmax_loss(softmax_loss) -> bool:
    """Check ``softmax_loss(scores, y) -> (loss, dscores)``: mean cross-entropy over the batch and its gradient."""
    require_callable(softmax_loss, "check_softmax_loss", "softmax_loss(scores, y)")
    rng = rng_for("softmax_loss")
    cases = [(tr("5 examples, 3 classes"), 5, 3, 0.0), (tr("8 examples, 10 classes"), 8, 10, 0.0),
             (tr("one example"), 1, 4, 0.0), (tr("scores near 1000 (numerical stability)"), 4, 6, 1000.0)]
    for _, N, C, offset in cases:
        scores_h = rng.standard_normal((N, C)) * 2.0 + offset
        y_h = rng.integers(0, C, size=N)
        scores, y = device(scores_h), device(y_h)
        want_loss, want_dscores = layers.softmax_cross_entropy(scores, y)
        want_loss = float(backend.to_numpy(want_loss))
        text = describe_call("softmax_loss", ("scores", scores), ("y", y))
        result = call(softmax_loss, text, scores, y)
        require_unchanged(scores_h, scores, text, "scores")
        require_unchanged(y_h, y, text, "y")
        if not isinstance(result, (tuple, list)) or len(result) != 2:
            raise ExerciseError(tr("{call} returned {kind}; return a pair (loss, dscores)",
                                   call=text, kind=type(result).__name__))
        loss, dscores = result
        shifted = scores_h - scores_h.max(axis=1, keepdims=True)
        probs = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
        per_example = -np.log(probs[np.arange(N), y_h])
        got_loss = _loss_value(loss, text, per_example)
        if not np.isfinite(got_loss):
            raise ExerciseError(tr("{call}: the loss is {loss}; exp of large scores overflows. Subtract each "
                                   "row's max score before exp (scores - scores.max(axis=1, keepdims=True)): "
                                   "softmax does not change", call=text, loss=got_loss))
        if not np.isclose(got_loss, want_loss, rtol=1e-6, atol=1e-9):
            probs0 = np.exp(shifted - shifted.max(axis=0)) / np.exp(shifted - shifted.max(axis=0)).sum(axis=0)
            hints = [(want_loss * N, tr("this is the sum over the batch; the loss is the mean (divide by N)")),
                     (-want_loss, tr("the sign is flipped: the loss is minus the log-probability of the right "
                                     "class")),
                     (float(np.mean(-np.log10(probs[np.arange(N), y_h]))), tr("use the natural log (np.log), "
                                                                              "not log10")),
                     (float(np.mean(-np.log(probs0[np.arange(N), y_h]))), tr("softmax normalises over the classes "
                      "of each example (axis=1), not over the batch (axis=0)"))]
            hint = next((h for value, h in hints if np.isclose(got_loss, value, rtol=1e-6)), "")
            if hint:
                raise ExerciseError(tr("{call}: the loss is {got:.6g}, expected {want:.6g}: {hint}",
                                       call=text, got=got_loss, want=want_loss, hint=hint))
            raise ExerciseError(tr("{call}: the loss is {got:.6g}, expected {want:.6g}",
                                   call=text, got=got_loss, want=want_loss))
        require_array(dscores, text, "dscores", scores)
        onehot = np.zeros_like(probs)
        onehot[np.arange(N), y_h] = 1.0
        compare_array(dscores, want_dscores, text, "dscores", mistakes=[
            (probs / N, tr("these are the probabilities divided by N; subtract 1 at the correct class of each "
                           "example first")),
            (probs, tr("these are the softmax probabilities; subtract 1 at each correct class, then divide by N")),
            ((onehot - probs) / N, tr("the sign is flipped: the gradient is (probabilities - one_hot(y)) / N")),
        ], factor_hints={N: tr("divide by N: the loss is a mean over the batch, so is its gradient")})
    return passed("softmax_loss", [c[0] for c in cases])


def check_relu_backward(relu_backward) -> bool:
    """Check ``relu_backward(dout, x) -> dx``: the upstream gradient where ``x > 0``, zero elsewhere."""
    require_callable(relu_backward, "check_relu_backward", "relu_backward(dout, x)")
    rng = rng_for("relu_backward")
    cases = [(tr("a (4, 5) matrix"), (4, 5), "float64"), (tr("an image batch (2, 3, 4, 4)"), (2, 3, 4, 4), "float64"),
             (tr("a vector (7,)"), (7,), "float64"),
             (tr("float32 arrays (3, 4), whose dtype dx keeps"), (3, 4), "float32"),
             (tr("inputs that are exactly 0, where the gradient is blocked"), (2, 6), "zeros")]
    for _, shape, kind in cases:
        x_h = rng.standard_normal(shape)
        x_h[x_h == 0] = 0.5
        if kind == "zeros":  # the instructions: the gradient is blocked where x <= 0, at 0 too
            x_h[:, ::2] = 0.0
        dtype = np.float32 if kind == "float32" else np.float64
        x_h, dout_h = x_h.astype(dtype), rng.standard_normal(shape).astype(dtype)
        x, dout = device(x_h), device(dout_h)
        _, cache = layers.relu_forward(x)
        want = layers.relu_backward(dout, cache)
        text = describe_call("relu_backward", ("dout", dout), ("x", x))
        out = call(relu_backward, text, dout, x)
        require_unchanged(dout_h, dout, text, "dout")
        require_unchanged(x_h, x, text, "x")
        require_array(out, text, "dx", x)
        compare_array(out, want, text, "dx", mistakes=[
            (dout_h, tr("dx equals dout everywhere; it must be zero where the input x is <= 0, where the ReLU "
                        "blocked the signal")),
            ((x_h > 0).astype(float), tr("dx is the mask x > 0 alone; multiply it by dout")),
            (dout_h * (dout_h > 0), tr("the mask must come from the input x, not from dout: the ReLU passed the "
                                       "signal where its input was positive")),
            (dout_h * (x_h >= 0), tr("at x == 0 the ReLU blocks the gradient too: dx is zero where x <= 0, so the "
                                     "mask is x > 0, not x >= 0")),
            (dout_h * (x_h <= 0), tr("the mask is inverted: the gradient passes where x > 0 and is zero elsewhere")),
            (dout_h * np.maximum(x_h, 0), tr("multiply dout by the mask (x > 0), not by relu(x)")),
        ], fallback=tr("dx should be dout where x > 0 and 0 elsewhere"))
    return passed("relu_backward", [c[0] for c in cases])


def check_sgd_step(sgd_step) -> bool:
    """Check ``sgd_step(w, dw, lr) -> new_w``: ``w - lr * dw``, leaving ``w`` unchanged."""
    require_callable(sgd_step, "check_sgd_step", "sgd_step(w, dw, lr)")
    rng = rng_for("sgd_step")
    cases = [(tr("a (3, 4) matrix, lr=0.1"), (3, 4), 0.1), (tr("a bias (5,), lr=0.01"), (5,), 0.01),
             (tr("conv weights (2, 3, 3, 3), lr=0.5"), (2, 3, 3, 3), 0.5)]
    for _, shape, lr in cases:
        w_h, dw_h = rng.standard_normal(shape), rng.standard_normal(shape)
        w, dw = device(w_h), device(dw_h)
        text = describe_call("sgd_step", ("w", w), ("dw", dw), lr)
        out = call(sgd_step, text, w, dw, lr)
        if not np.array_equal(w_h, backend.to_numpy(w)):
            raise ExerciseError(tr("{call} changed w in place (as `w -= lr * dw` does); sgd_step must be pure: "
                                   "return a new array, `return w - lr * dw`, and leave the caller's w as it was",
                                   call=text))
        require_unchanged(dw_h, dw, text, "dw")
        require_array(out, text, "new_w", w)
        compare_array(out, device(w_h - lr * dw_h), text, "new_w", mistakes=[
            (w_h + lr * dw_h, tr("the step goes along the gradient; it must go against it: w - lr * dw")),
            (w_h - dw_h, tr("multiply the gradient by the learning rate: w - lr * dw")),
            (-lr * dw_h, tr("this is the step alone; return the updated weights w - lr * dw")),
            (lr * dw_h, tr("this is lr * dw; return the updated weights w - lr * dw")),
        ])
    return passed("sgd_step", [c[0] for c in cases])


def _index_array(value, text: str, what: str) -> np.ndarray:
    try:
        host = backend.to_numpy(value)
    except Exception:
        raise ExerciseError(tr("{call}: {what} is a {kind}; return an array of indices",
                               call=text, what=what, kind=type(value).__name__)) from None
    if host.dtype == bool:
        raise ExerciseError(tr("{call}: {what} is a boolean mask; return integer indices (np.flatnonzero(mask))",
                               call=text, what=what))
    if host.ndim != 1 or (host.size and not np.issubdtype(host.dtype, np.integer)):
        raise ExerciseError(tr("{call}: {what} has shape {shape} and dtype {dtype}; "
                               "return a 1-D array of integer indices",
                               call=text, what=what, shape=host.shape, dtype=host.dtype))
    return host


def _folds(kfold_indices, num_samples, k, seed):
    text = describe_call("kfold_indices", num_samples, k, seed=seed)
    folds = call(kfold_indices, text, num_samples, k, seed=seed)
    if folds is None or isinstance(folds, (str, bytes)) or not hasattr(folds, "__len__"):
        raise ExerciseError(tr("{call} returned {kind}; return a list of k pairs (train_idx, val_idx)",
                               call=text, kind=type(folds).__name__))
    folds = list(folds)
    if len(folds) != k:
        raise ExerciseError(tr("{call} returned {count} folds; expected k={k}, one per validation part",
                               call=text, count=len(folds), k=k))
    out = []
    for i, fold in enumerate(folds):
        if not isinstance(fold, (tuple, list)) or len(fold) != 2:
            raise ExerciseError(tr("{call}: fold {i} is a {kind}; each fold is a pair (train_idx, val_idx)",
                                   call=text, i=i, kind=type(fold).__name__))
        out.append((_index_array(fold[0], text, tr("fold {i}'s train_idx", i=i)),
                    _index_array(fold[1], text, tr("fold {i}'s val_idx", i=i))))
    return text, out


def _check_partition(text, folds, num_samples):
    everything = np.arange(num_samples)
    owner = {}
    for i, (train, val) in enumerate(folds):
        for idx in np.concatenate([train, val]):
            if not 0 <= idx < num_samples:
                raise ExerciseError(tr("{call}: fold {i} holds index {index}, outside 0..{last}",
                                       call=text, i=i, index=idx, last=num_samples - 1))
        for idx in val:
            if int(idx) in owner:
                raise ExerciseError(tr("{call}: index {index} is in the validation part of folds {first} and {i}; "
                                       "every example is validated exactly once",
                                       call=text, index=idx, first=owner[int(idx)], i=i))
            owner[int(idx)] = i
        if len(np.unique(train)) != len(train):
            raise ExerciseError(tr("{call}: fold {i}'s train_idx repeats indices", call=text, i=i))
        leak = np.intersect1d(train, val)
        if leak.size:
            raise ExerciseError(tr("{call}: fold {i} trains on index {index}, which is also in its validation "
                                   "part; train_idx must be all the indices not in val_idx",
                                   call=text, i=i, index=leak[0]))
        missing = np.setdiff1d(everything, np.concatenate([train, val]))
        if missing.size:
            raise ExerciseError(tr("{call}: fold {i} leaves index {index} out of both train_idx and val_idx; "
                                   "train_idx must be all the indices not in val_idx",
                                   call=text, i=i, index=missing[0]))
    unseen = [i for i in range(num_samples) if i not in owner]
    if unseen:
        raise ExerciseError(tr("{call}: index {index} is in no validation part; the k parts must cover every index",
                               call=text, index=unseen[0]))
    sizes = [len(val) for _, val in folds]
    if max(sizes) - min(sizes) > 1:
        raise ExerciseError(tr("{call}: the validation parts have sizes {sizes}; split evenly, sizes differing by "
                               "at most one (np.array_split does this)", call=text, sizes=sizes))


def check_cross_validation(kfold_indices) -> bool:
    """Check ``kfold_indices(num_samples, k, seed=0) -> [(train_idx, val_idx), ...]``."""
    require_callable(kfold_indices, "check_cross_validation", "kfold_indices(num_samples, k, seed=0)")
    cases = [(tr("10 samples, 5 folds"), 10, 5), (tr("103 samples, 5 folds (uneven)"), 103, 5),
             (tr("40 samples, 4 folds"), 40, 4), (tr("7 samples, 7 folds (leave one out)"), 7, 7)]
    for _, num_samples, k in cases:
        text, folds = _folds(kfold_indices, num_samples, k, 0)
        _check_partition(text, folds, num_samples)
    text, first = _folds(kfold_indices, 40, 4, 0)
    _, again = _folds(kfold_indices, 40, 4, 0)
    if any(not np.array_equal(a[1], b[1]) for a, b in zip(first, again)):
        raise ExerciseError(tr("two calls of {call} gave different folds; draw the shuffle from "
                               "np.random.default_rng(seed) so the same seed gives the same folds", call=text))
    _, other = _folds(kfold_indices, 40, 4, 1)
    if all(np.array_equal(np.sort(a[1]), np.sort(b[1])) for a, b in zip(first, other)):
        if all(np.array_equal(np.sort(val), np.arange(i * 10, i * 10 + 10)) for i, (_, val) in enumerate(first)):
            raise ExerciseError(tr("{call}: the validation parts are contiguous blocks of the index order; shuffle "
                                   "the indices first (np.random.default_rng(seed).permutation(num_samples)), since "
                                   "data sets are often sorted, e.g. by class", call=text))
        raise ExerciseError(tr("kfold_indices gives the same folds for seed=0 and seed=1; "
                               "use the seed for the shuffle"))
    for _, num_samples, k in cases:
        _check_asked_split(*_folds(kfold_indices, num_samples, k, 0), num_samples, k, 0)
    return passed("kfold_indices", [c[0] for c in cases] + [tr("the same seed gives the same folds, another seed "
                                                               "other folds"),
                                                            tr("the parts of np.random.default_rng(seed)'s shuffle, "
                                                               "in order")])


def _check_asked_split(text, folds, num_samples, k, seed):
    """The instructions fix the folds: part ``i`` of ``np.array_split`` of ``default_rng(seed)``'s shuffle
    validates fold ``i``. ``folds`` already form a valid partition; the order inside a part is free."""
    parts = [np.sort(p) for p in np.array_split(np.random.default_rng(seed).permutation(num_samples), k)]
    got = [np.sort(val) for _, val in folds]
    for i, (val, part) in enumerate(zip(got, parts)):
        if np.array_equal(val, part):
            continue
        same = next((j for j, other in enumerate(parts) if np.array_equal(val, other)), None)
        if same is not None:
            raise ExerciseError(tr("{call}: fold {i} validates on part {j} of the shuffled indices; let part i be "
                                   "the validation indices of fold i, keeping the parts in order",
                                   call=text, i=i, j=same))
        raise ExerciseError(tr("{call}: the folds split the indices correctly, but not with the shuffle the "
                               "instructions ask for: draw it from np.random.default_rng(seed) (not np.random.seed, "
                               "RandomState or another generator), so that everyone gets the same folds for the "
                               "same seed, then cut it with np.array_split", call=text))


__all__ = ["check_softmax_loss", "check_relu_backward", "check_sgd_step", "check_cross_validation"]
