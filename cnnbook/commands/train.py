"""``python -m cnnbook train``: train the reference CNN on Fashion-MNIST and report test accuracy.

The last two lines printed are ``test accuracy: 0.xxxx`` and ``seconds: S`` (wall time of the
whole command: loading, training, testing). The progress bar goes to stderr, and so does a warning when the
test accuracy is no better than guessing. A bad option is one ``error:`` line and exit status 2; a
diverged training, exit status 1; Ctrl-C or SIGTERM stops training with one line (exit 130 or 143).
"""
from __future__ import annotations

import argparse
import math
import sys
import time

from cnnbook.commands.cli import describe_stop, learning_rate, positive_int, seed, signal_of

# The bundled subset trains in well under a minute; the full set reaches >= 91% in about this many epochs.
DEFAULT_EPOCHS = {False: 4, True: 10}


DEFAULT_LR = 2e-3  # Adam's learning rate
LR_DECAY = 0.75  # learning rate multiplied by this after every epoch


def _blas_threads(n):
    """A context in which the layers run on ``n`` threads (``None``: the default), fit and accuracy included
    (:func:`cnnbook.backend.blas_threads`)."""
    from cnnbook.backend import blas_threads
    return blas_threads(n)


def add_arguments(parser) -> None:
    parser.add_argument("--full", action="store_true",
                        help="the official 60,000/10,000 images (default: the bundled 12,000/2,000 subset)")
    parser.add_argument("--epochs", type=positive_int, default=None,
                        help=f"passes over the training set (default {DEFAULT_EPOCHS[False]}, "
                             f"or {DEFAULT_EPOCHS[True]} with --full)")
    parser.add_argument("--backend", choices=("numpy", "cupy"), default=None,
                        help="array backend (default: $CNNBOOK_BACKEND, else numpy)")
    parser.add_argument("--seed", type=seed, default=0, help="seed for initialisation and shuffling (default 0)")
    parser.add_argument("--batch-size", type=positive_int, default=64, help="minibatch size (default 64)")
    parser.add_argument("--lr", type=learning_rate, default=DEFAULT_LR,
                        help=f"Adam learning rate (default {DEFAULT_LR:g})")
    parser.add_argument("--threads", type=positive_int, default=None,
                        help="threads the layers split their work over (default: $CNNBOOK_BLAS_THREADS, else the "
                             "CPUs this process may use)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    # For tests: train and test on the first LIMIT images only.
    parser.add_argument("--limit", type=positive_int, default=None, help=argparse.SUPPRESS)


def run(args) -> int:
    start = time.perf_counter()
    import numpy as np

    from cnnbook import backend
    from cnnbook.data import load_fashion_mnist
    from cnnbook.models import reference_cnn
    from cnnbook.optim import Adam
    from cnnbook.train import TrainingDiverged, accuracy, fit

    epochs = DEFAULT_EPOCHS[args.full] if args.epochs is None else args.epochs
    try:
        if args.backend is not None:
            works, reason = backend.gpu_status()
            if args.backend == "cupy" and not works:
                print(f"error: --backend cupy needs a working GPU: {reason}. Use --backend numpy instead.",
                      file=sys.stderr)
                return 1
            backend.use(args.backend)
        X_train, y_train = load_fashion_mnist("train", full=args.full)
        X_test, y_test = load_fashion_mnist("test", full=args.full)
    except (RuntimeError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args.limit is not None:
        X_train, y_train = X_train[:args.limit], y_train[:args.limit]
        X_test, y_test = X_test[:args.limit], y_test[:args.limit]
    model = reference_cnn(seed=args.seed)
    print(f"backend {backend.default_backend()}, {X_train.shape[0]} training and {X_test.shape[0]} test "
          f"images, {epochs} epoch{'s' * (epochs != 1)}, {model.num_parameters():,} parameters", flush=True)
    optimizer = Adam(model.parameters(), lr=args.lr)
    steps = _Steps()
    try:
        # a diverging run overflows on the way to its NaN loss: fit's TrainingDiverged says it in one line
        with _blas_threads(args.threads), np.errstate(over="ignore", invalid="ignore"):
            history = fit(model, X_train, y_train, epochs=epochs, batch_size=args.batch_size, optimizer=optimizer,
                          seed=args.seed, progress=not args.no_progress, lr_decay=LR_DECAY, callback=steps)
            test_acc = accuracy(model, X_test, y_test)
    except TrainingDiverged as exc:
        print(f"error: {exc} (--lr {args.lr:g})", file=sys.stderr)
        return 1
    except KeyboardInterrupt as exc:
        print(f"interrupted by {describe_stop(exc)}: training stopped after {steps.steps} steps, "
              f"{steps.epochs} of {epochs} epochs done", file=sys.stderr)
        return 128 + signal_of(exc)
    for i, (loss, acc, sec) in enumerate(zip(history.epoch_loss, history.train_acc, history.seconds)):
        print(f"epoch {i + 1}: loss {loss:.4f}, train accuracy {acc:.4f}, {sec:.1f} s")
    print(f"test accuracy: {test_acc:.4f}")
    warning = chance_warning(test_acc, y_test, args.lr)
    if warning:
        print(warning, file=sys.stderr)
    print(f"seconds: {time.perf_counter() - start:.1f}")
    return 0


class _Steps:
    """A ``fit`` callback that counts steps and finished epochs, for the message when training is interrupted."""

    def __init__(self):
        self.steps = self.epochs = 0

    def __call__(self, history, end_of_epoch):
        self.steps = len(history.loss)
        self.epochs += bool(end_of_epoch)


def chance_warning(test_acc: float, y_test, lr: float) -> str | None:
    """A warning when ``test_acc`` is no better than always guessing the most common test class.

    "No better" means within three binomial standard deviations of that guess's accuracy, on
    ``len(y_test)`` images (on 300 images of 10 classes: below about 0.152).
    """
    import numpy as np

    counts = np.bincount(np.asarray(y_test).astype(np.int64))
    n, guess = int(counts.sum()), float(counts.max() / counts.sum())
    if test_acc > guess + 3 * math.sqrt(guess * (1 - guess) / n):
        return None
    return (f"warning: test accuracy {test_acc:.4f} is no better than always guessing the most common class "
            f"({guess:.4f}): the model learned nothing; try a smaller learning rate than --lr {lr:g} "
            f"(the default is {DEFAULT_LR:g})")
