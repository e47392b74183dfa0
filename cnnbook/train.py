"""Training loop and evaluation: minibatch gradient descent with a progress bar and a history.

::

    model = reference_cnn(seed=0)
    history = fit(model, X_train, y_train, X_val=X_test, y_val=y_test, epochs=3, batch_size=64,
                  optimizer=Adam(model.parameters(), lr=1e-3), seed=0)
    history.val_acc[-1], accuracy(model, X_test, y_test)

``fit`` is deterministic for a given ``seed`` and model initialisation (the shuffling and the
augmentation draw from ``numpy.random.default_rng(seed)``). When the loss becomes NaN or infinite
it stops with :class:`TrainingDiverged`; data holding NaN or infinite values is refused before
training starts. Evaluation runs in batches, so memory stays bounded for any number of images
(a ``batch_size`` whose activations would pass :data:`EVAL_MEMORY_BYTES` is split further);
predictions come back to the host. ``fit``, ``predict``, ``predict_scores``, ``evaluate`` and ``accuracy``
run inside :func:`cnnbook.backend.blas_threads`: the layers use the CPUs this process may use, each thread
with single-threaded BLAS (the same numbers whatever the count; that function says how to change it).
"""
from __future__ import annotations

import functools
import math
import time

import numpy as np

from cnnbook import backend
from cnnbook.backend import as_generator
from cnnbook.course.language import tr
from cnnbook.layers import softmax_cross_entropy, svm_loss
from cnnbook.layers.checks import number, whole_number

EVAL_MEMORY_BYTES = 256 * 2**20
"""Evaluation (``predict``, ``accuracy``, ``evaluate``) keeps one batch's peak memory under about this many
bytes: a larger ``batch_size`` is cut to fit, measured on the first batch (results do not change)."""

EVAL_BATCH_SIZE = 128
"""Evaluation's default batch size. Larger batches are not faster on a CPU: a conv layer's im2col matrix for 512
images (hundreds of MB) falls out of the caches, and 2,000 test images take three times as long as at 128."""

_PROBE = 32  # the first evaluation batch has at most this many examples; its activations size the rest


class TrainingDiverged(FloatingPointError):
    """The training loss became NaN or infinite (usually: the learning rate is too large)."""


class History:
    """What :func:`fit` records (host Python floats).

    ``loss``: the training loss of every step; ``epoch_loss``: its mean per epoch;
    ``train_acc``: per epoch, the accuracy on the training minibatches as they were seen
    (augmented, while the model changed); ``val_acc`` / ``val_loss``: per epoch, on
    ``X_val, y_val`` after the epoch (empty without validation data); ``seconds``: wall time per epoch.
    """

    def __init__(self):
        self.loss, self.epoch_loss, self.train_acc = [], [], []
        self.val_loss, self.val_acc, self.seconds = [], [], []

    @property
    def steps_per_epoch(self) -> int:
        return len(self.loss) // max(1, len(self.epoch_loss))

    def as_dict(self) -> dict:
        return {k: list(v) for k, v in vars(self).items()}

    def __repr__(self):
        last = lambda v: f"{v[-1]:.4f}" if v else "-"  # noqa: E731
        return (f"History(epochs={len(self.epoch_loss)}, steps={len(self.loss)}, loss={last(self.epoch_loss)}, "
                f"train_acc={last(self.train_acc)}, val_acc={last(self.val_acc)})")


LOSSES = {"softmax": softmax_cross_entropy, "svm": svm_loss}


def _loss_fn(loss):
    if callable(loss):
        return loss
    if loss in LOSSES:
        return LOSSES[loss]
    raise ValueError(tr("loss={loss}; choose 'softmax', 'svm' or pass a function (scores, y) -> (loss, dscores)",
                        loss=repr(loss)))


def _model_xp(model):
    params = model.parameters()
    return backend.get_array_module(params[0].data) if params else backend.default_xp()


def _check_X(X, name="X"):
    if not hasattr(X, "shape") or not hasattr(X, "ndim"):
        raise TypeError(tr("{name} must be an array (NumPy or CuPy) of shape (N, ...), got {kind}; "
                           "convert it with numpy.asarray({name})", name=name, kind=type(X).__name__))
    if X.ndim < 1 or X.shape[0] == 0:
        raise ValueError(tr("{name} is empty (shape {shape}); pass at least one example",
                            name=name, shape=tuple(X.shape)))


def _check_data(X, y, name="X"):
    if not hasattr(X, "shape") or not hasattr(y, "shape"):
        raise TypeError(tr("{name} and its labels must be arrays, got {kind} and {labels_kind}",
                           name=name, kind=type(X).__name__, labels_kind=type(y).__name__))
    _check_X(X, name)
    if y.ndim != 1:
        raise ValueError(tr("the labels of {name} must be 1-D (N,) class indices, got shape {shape}",
                            name=name, shape=tuple(y.shape)))
    if X.shape[0] != y.shape[0]:
        raise ValueError(tr("{name} has {examples} examples but its labels have {labels}; pass matching arrays",
                            name=name, examples=X.shape[0], labels=y.shape[0]))


def _first_non_finite(X, offset=0, chunk=4096):
    """Index of the first example of ``X`` holding NaN or inf (``offset`` added), or ``None``.

    Works through ``chunk`` examples at a time, so the check needs little memory."""
    if getattr(X, "dtype", None) is None or X.dtype.kind not in "fc":
        return None
    xp = backend.get_array_module(X)
    for start in range(0, X.shape[0], chunk):
        block = X[start:start + chunk]
        finite = xp.isfinite(block.reshape(block.shape[0], -1)).all(axis=1)  # (B,)
        if not bool(finite.all()):
            return offset + start + int(xp.argmin(finite))
    return None


def _refuse_non_finite(X, name, offset=0):
    i = _first_non_finite(X, offset)
    if i is not None:
        raise ValueError(tr("{name} holds NaN or infinite values (first in example {index}); a model cannot learn "
                            "from or be scored on them: drop or repair those examples first, e.g. "
                            "keep = numpy.isfinite({name}).reshape(len({name}), -1).all(axis=1)", name=name, index=i))


def _in_blas_threads(func):
    """Run ``func`` inside :func:`cnnbook.backend.blas_threads` (the default threads unless set otherwise)."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with backend.blas_threads():
            return func(*args, **kwargs)
    return wrapper


def iterate_minibatches(X, y, batch_size, rng=None, shuffle=True, drop_last=False):
    """Yield ``(X_batch, y_batch)`` pairs that cover ``X, y`` once (one epoch).

    ``X``: ``(N, ...)``, ``y``: ``(N,)`` or ``None`` (then ``y_batch`` is ``None``), NumPy or CuPy.
    With ``shuffle=True`` the order is a permutation drawn on the host from ``rng`` (an ``int``
    seed or a ``numpy.random.Generator``, required) and moved to ``X``'s device; pass the same
    Generator every epoch to get a new order each epoch. The last batch is smaller when
    ``batch_size`` does not divide ``N``, unless ``drop_last``.
    """
    for name, a in (("X", X), ("y", y)):
        if a is not None and not hasattr(a, "shape"):
            raise TypeError(tr("{name} must be an array (NumPy or CuPy), got {kind}; convert it with "
                               "numpy.asarray({name})", name=name, kind=type(a).__name__))
    N = X.shape[0]
    if y is not None and y.shape[0] != N:
        raise ValueError(tr("X has {examples} examples but y has {labels}; pass matching arrays",
                            examples=N, labels=y.shape[0]))
    batch_size = whole_number(batch_size, "batch_size", minimum=1)
    xp = backend.get_array_module(X, y)
    if not shuffle:
        order = None
    elif rng is None:
        raise ValueError(tr("shuffle=True needs rng: pass rng=numpy.random.default_rng(seed) (or an int seed), "
                            "or shuffle=False"))
    else:
        order = as_generator(rng).permutation(N)  # host
    stop = N - N % batch_size if drop_last else N
    for start in range(0, stop, batch_size):
        end = min(start + batch_size, N)
        if order is None:
            sel = slice(start, end)
        else:
            sel = backend.to_device(order[start:end], xp)
        yield X[sel], (None if y is None else y[sel])


@_in_blas_threads
def fit(model, X, y, X_val=None, y_val=None, *, epochs=5, batch_size=64, optimizer=None, loss="softmax",
        seed=0, augment=None, lr_decay=1.0, callback=None, progress=True, eval_batch_size=EVAL_BATCH_SIZE) -> History:
    """Train ``model`` in place on ``X`` ``(N, C, H, W)`` (any shape the model takes), ``y`` ``(N,)`` ints.

    optimizer : a :mod:`cnnbook.optim` optimizer over ``model.parameters()``; default ``Adam(lr=1e-3)``.
    loss : ``"softmax"`` (cross-entropy), ``"svm"`` (hinge) or a function ``(scores, y) -> (loss, dscores)``.
    seed : int or ``numpy.random.Generator`` for the minibatch order and the augmentation.
    augment : ``None`` or a function ``(X_batch, rng) -> X_batch`` such as :class:`cnnbook.data.augment.Augment`.
    lr_decay : ``optimizer.lr`` is multiplied by this after every epoch (1.0: constant learning rate).
    callback : ``None`` or a function ``callback(history, end_of_epoch)``, called after every step (with
        ``history.loss`` up to that step) and after every epoch; ``fit`` calls its ``close()`` at the end if it has one.
        A notebook passes ``cnnbook.viz.training.LiveLossPlot()`` to watch the loss while training.
    progress : show a ``tqdm`` progress bar with the running loss.

    Data may live on the host while the model lives on the GPU: each minibatch is moved to the
    model's backend. Returns a :class:`History`; raises :class:`TrainingDiverged` on a NaN/inf loss.
    """
    from tqdm.auto import tqdm

    _check_data(X, y)
    if (X_val is None) != (y_val is None):
        raise ValueError(tr("pass both X_val and y_val, or neither"))
    if X_val is not None:
        _check_data(X_val, y_val, "X_val")
    # Checked first: a NaN in the data would otherwise surface as a diverged loss, blamed on the learning rate.
    _refuse_non_finite(X, "X")
    if X_val is not None:
        _refuse_non_finite(X_val, "X_val")
    epochs, batch_size = whole_number(epochs, "epochs", minimum=1), whole_number(batch_size, "batch_size", minimum=1)
    lr_decay = number(lr_decay, "lr_decay", above=0, maximum=1)
    loss_fn = _loss_fn(loss)
    if optimizer is None:
        from cnnbook.optim import Adam
        optimizer = Adam(model.parameters(), lr=1e-3)
    _check_optimizer(optimizer, model)
    rng = as_generator(seed)
    xp = _model_xp(model)
    history = History()
    steps = math.ceil(X.shape[0] / batch_size)
    # the progress bar's words, looked up once: the loop below only fills in numbers
    epoch_label, loss_label = tr("epoch"), tr("loss")
    bar = tqdm(total=epochs * steps, disable=not progress, unit=tr("step"), desc=tr("training"))
    try:
        for epoch in range(epochs):
            start = time.perf_counter()
            model.train()
            first, correct = len(history.loss), 0
            for X_batch, y_batch in iterate_minibatches(X, y, batch_size, rng=rng):
                X_batch, y_batch = backend.to_device(X_batch, xp), backend.to_device(y_batch, xp)
                if augment is not None:
                    X_batch = augment(X_batch, rng)
                optimizer.zero_grad()
                scores = model(X_batch)  # (B, classes)
                value, dscores = loss_fn(scores, y_batch)
                value = float(value)
                if not math.isfinite(value):
                    raise TrainingDiverged(tr(
                        "the training loss became {value} at epoch {epoch}, step {step} (optimizer {optimizer}); "
                        "{cause}", value=value, epoch=epoch + 1, step=len(history.loss) - first + 1,
                        optimizer=repr(optimizer), cause=_divergence_cause(X_batch, model, optimizer, augment)))
                model.backward_params(dscores)  # the parameters' gradients; nothing uses the input's
                optimizer.step()
                history.loss.append(value)
                correct += int((scores.argmax(axis=1) == y_batch).sum())
                bar.update(1)
                bar.set_postfix({epoch_label: epoch + 1, loss_label: f"{value:.3f}"}, refresh=False)
                if callback is not None:
                    callback(history, False)
            history.epoch_loss.append(float(np.mean(history.loss[first:])))
            history.train_acc.append(correct / X.shape[0])
            if X_val is not None:
                val_loss, val_acc = evaluate(model, X_val, y_val, loss=loss, batch_size=eval_batch_size)
                history.val_loss.append(val_loss)
                history.val_acc.append(val_acc)
            history.seconds.append(time.perf_counter() - start)
            if lr_decay != 1.0:
                optimizer.lr *= lr_decay
            if callback is not None:
                callback(history, True)
    finally:
        bar.close()
        if callback is not None and hasattr(callback, "close"):
            callback.close()
    return history


def _check_optimizer(optimizer, model):
    params = getattr(optimizer, "params", None)
    if params is None:
        return  # an optimizer of another kind: nothing to compare
    own = {id(p) for p in model.parameters()}
    foreign = [i for i, p in enumerate(params) if id(p) not in own]
    if foreign:
        indices = ", ".join(map(str, foreign[:5])) + (", ..." if len(foreign) > 5 else "")
        raise ValueError(tr("{count} of the optimizer's {total} parameters (index {indices}) are not parameters of "
                            "this model, so training would not change them; build the optimizer from this model: "
                            "optimizer={kind}(model.parameters(), lr=...)",
                            count=len(foreign), total=len(params), indices=indices, kind=type(optimizer).__name__))


def _divergence_cause(X_batch, model, optimizer, augment) -> str:
    """What to tell the user when the loss is not finite: bad data, bad weights, or a too-large step."""
    if _first_non_finite(X_batch) is not None:
        if augment is not None:
            return tr("the input holds NaN or infinite values after augment; check the data and the augmentation")
        return tr("the input holds NaN or infinite values in this minibatch; check the data and the augmentation")
    if any(_first_non_finite(p.data.reshape(1, -1)) is not None for p in model.parameters()) \
            and getattr(optimizer, "steps", 1) == 0:
        return tr("the model's parameters held NaN or infinite values before training; rebuild or reload the model")
    return tr("try a smaller learning rate, e.g. lr={lr:g}", lr=getattr(optimizer, "lr", 1e-3) / 10)


def _activation_bytes(model, batch, scores) -> int:
    """Bytes of the arrays one forward pass left behind: every module's cache, the input and the scores."""
    seen, total = set(), 0
    stack = [m._cache for m in model.modules()] + [batch, scores]
    while stack:
        item = stack.pop()
        if isinstance(item, (tuple, list)):
            stack.extend(item)
        elif hasattr(item, "nbytes") and id(item) not in seen:
            seen.add(id(item))
            total += int(item.nbytes)
    return total


def _batched_scores(model, X, batch_size):
    """``(start, scores)`` per batch, in eval mode; each batch checked for NaN/inf and sized by memory.

    The first batch has at most ``_PROBE`` examples; the bytes its forward pass keeps alive set how many
    examples the next batches may hold (at most ``batch_size``, activations under ``EVAL_MEMORY_BYTES``).
    """
    _check_X(X)
    xp = _model_xp(model)
    was_training = model.training
    model.eval()
    try:
        start, size = 0, min(batch_size, _PROBE)
        while start < X.shape[0]:
            batch = backend.to_device(X[start:start + size], xp)
            _refuse_non_finite(batch, "X", offset=start)
            scores = model(batch)
            if start == 0:
                # The layer running holds temporaries about as large again as what the caches keep: x2.
                per_example = 2 * _activation_bytes(model, batch, scores) / batch.shape[0]
                size = int(max(1, min(batch_size, EVAL_MEMORY_BYTES // max(per_example, 1))))
            yield start, scores
            start += batch.shape[0]
    finally:
        for m in model.modules():
            m._cache = None  # evaluation caches are not for backward; free them (a large batch's are large)
        model.train(was_training)


@_in_blas_threads
def predict_scores(model, X, batch_size=EVAL_BATCH_SIZE) -> np.ndarray:
    """Class scores ``(N, classes)`` for ``X``, computed in batches, as a host array."""
    whole_number(batch_size, "batch_size", minimum=1)
    return np.concatenate([backend.to_numpy(s) for _, s in _batched_scores(model, X, batch_size)])


@_in_blas_threads
def predict(model, X, batch_size=EVAL_BATCH_SIZE) -> np.ndarray:
    """Predicted class indices ``(N,)`` (host int64), computed in batches."""
    whole_number(batch_size, "batch_size", minimum=1)
    return np.concatenate([backend.to_numpy(s.argmax(axis=1)) for _, s in _batched_scores(model, X, batch_size)])


@_in_blas_threads
def evaluate(model, X, y, loss="softmax", batch_size=EVAL_BATCH_SIZE) -> tuple[float, float]:
    """``(mean loss, accuracy)`` of ``model`` on ``X, y``, in batches."""
    _check_data(X, y)
    whole_number(batch_size, "batch_size", minimum=1)
    loss_fn = _loss_fn(loss)
    xp = _model_xp(model)
    total, correct = 0.0, 0
    for start, scores in _batched_scores(model, X, batch_size):
        y_batch = backend.to_device(y[start:start + scores.shape[0]], xp)
        value, _ = loss_fn(scores, y_batch)
        total += float(value) * y_batch.shape[0]
        correct += int((scores.argmax(axis=1) == y_batch).sum())
    return total / X.shape[0], correct / X.shape[0]


@_in_blas_threads
def accuracy(model, X, y, batch_size=EVAL_BATCH_SIZE) -> float:
    """Fraction of ``X`` that ``model`` classifies as ``y``, in batches."""
    _check_data(X, y)
    pred = predict(model, X, batch_size)
    return float((pred == backend.to_numpy(y)).mean())


def _labels(v, name) -> np.ndarray:
    """Class indices as a flat host int64 array; ``ValueError`` for fractions, NaN or non-numbers."""
    v = backend.to_numpy(v).ravel()
    if v.dtype.kind == "f":
        whole = np.isfinite(v) & (v == np.round(v))
        if not whole.all():
            bad = v[~whole][:3]
            raise ValueError(tr("{name} holds values that are not class indices ({values}...); pass whole numbers, "
                                "e.g. {name}.argmax(axis=1) for scores or {name}.astype(int)",
                                name=name, values=", ".join(map(str, bad))))
    elif v.dtype.kind not in "iub":
        raise TypeError(tr("{name} has dtype {dtype}; pass integer class indices", name=name, dtype=v.dtype))
    return v.astype(np.int64)


def confusion_matrix(y_true, y_pred, num_classes=10) -> np.ndarray:
    """Counts ``(num_classes, num_classes)``: entry ``[i, j]`` is how many class-``i`` images were predicted ``j``."""
    y_true, y_pred = _labels(y_true, "y_true"), _labels(y_pred, "y_pred")
    if y_true.shape != y_pred.shape:
        raise ValueError(tr("{labels} true labels but {predictions} predictions; pass one prediction per label",
                            labels=y_true.size, predictions=y_pred.size))
    for name, v in (("y_true", y_true), ("y_pred", y_pred)):
        if v.size and (v.min() < 0 or v.max() >= num_classes):
            raise ValueError(tr("{name} holds labels outside 0..{last} (min {low}, max {high}); set num_classes",
                                name=name, last=num_classes - 1, low=v.min(), high=v.max()))
    return np.bincount(y_true * num_classes + y_pred, minlength=num_classes ** 2).reshape(num_classes, num_classes)


def fit_to_plateau(model, X, y, X_val, y_val, *, chunk=4000, max_chunks=12, patience=2, batch_size=32,
                   optimizer=None, seed=0) -> list[float]:
    """Train ``model`` in chunks of about ``chunk`` training images each, until its validation accuracy stops rising.

    After each chunk (``max(1, round(chunk / N))`` epochs of the ``N`` training images) the accuracy on
    ``X_val``, ``y_val`` is measured. Training stops after ``patience`` chunks without a new best, or after
    ``max_chunks`` chunks; the model is then put back to its weights at the best chunk, so what is measured next
    is the model at its validation plateau, not the last one. This gives each model the budget it needs (a
    slow learner gets more steps) without looking at the test set. Returns the validation accuracy after each
    chunk (its length says how many chunks ran; the best is ``max`` of it).
    """
    _check_data(X, y)
    _check_data(X_val, y_val, "X_val")
    chunk, max_chunks, patience = (whole_number(v, name, minimum=1) for v, name in
                                   [(chunk, "chunk"), (max_chunks, "max_chunks"), (patience, "patience")])
    if optimizer is None:
        from cnnbook.optim import Adam
        optimizer = Adam(model.parameters(), lr=1e-3)
    rng = as_generator(seed)
    epochs = max(1, round(chunk / X.shape[0]))
    val_acc, best, best_weights = [], -1.0, None
    for _ in range(max_chunks):
        fit(model, X, y, epochs=epochs, batch_size=batch_size, optimizer=optimizer, seed=rng, progress=False)
        val_acc.append(accuracy(model, X_val, y_val))
        if val_acc[-1] > best:
            best, best_weights = val_acc[-1], [p.data.copy() for p in model.parameters()]
        elif len(val_acc) - 1 - val_acc.index(best) >= patience:
            break
    for p, w in zip(model.parameters(), best_weights):
        p.data[...] = w
    return val_acc
