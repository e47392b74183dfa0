"""``python -m cnnbook train``: train the reference CNN on Fashion-MNIST and report test accuracy.

The last two lines printed are ``test accuracy: 0.xxxx`` and ``seconds: S`` (wall time of the
whole command: loading, training, testing). The progress bar goes to stderr.
"""
from __future__ import annotations

import argparse
import contextlib
import sys
import time

# The bundled subset trains in well under a minute; the full set reaches >= 91% in about this many epochs.
DEFAULT_EPOCHS = {False: 4, True: 10}


LR_DECAY = 0.75  # learning rate multiplied by this after every epoch


def _blas_threads(n):
    """A context that limits NumPy's BLAS to ``n`` threads, fit and accuracy included
    (:func:`cnnbook.backend.blas_threads`; a no-op without threadpoolctl)."""
    from cnnbook.backend import blas_threads
    return blas_threads(n)


def add_arguments(parser) -> None:
    parser.add_argument("--full", action="store_true",
                        help="the official 60,000/10,000 images (default: the bundled 12,000/2,000 subset)")
    parser.add_argument("--epochs", type=int, default=None,
                        help=f"passes over the training set (default {DEFAULT_EPOCHS[False]}, "
                             f"or {DEFAULT_EPOCHS[True]} with --full)")
    parser.add_argument("--backend", choices=("numpy", "cupy"), default=None,
                        help="array backend (default: $CNNBOOK_BACKEND, else numpy)")
    parser.add_argument("--seed", type=int, default=0, help="seed for initialisation and shuffling (default 0)")
    parser.add_argument("--batch-size", type=int, default=64, help="minibatch size (default 64)")
    parser.add_argument("--lr", type=float, default=2e-3, help="Adam learning rate (default 0.002)")
    parser.add_argument("--threads", type=int, default=1,
                        help="BLAS threads for NumPy's matrix products (default 1: the layers' products are small, "
                             "and extra threads mostly spin-wait, several times slower on a busy machine)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    # For tests: train and test on the first LIMIT images only.
    parser.add_argument("--limit", type=int, default=None, help=argparse.SUPPRESS)


def run(args) -> int:
    start = time.perf_counter()
    from cnnbook import backend
    from cnnbook.data import load_fashion_mnist
    from cnnbook.models import reference_cnn
    from cnnbook.optim import Adam
    from cnnbook.train import accuracy, fit

    epochs = DEFAULT_EPOCHS[args.full] if args.epochs is None else args.epochs
    for name in ("epochs", "batch_size", "limit", "threads"):
        value = epochs if name == "epochs" else getattr(args, name)
        if value is not None and value < 1:
            print(f"error: --{name.replace('_', '-')} must be a positive integer, got {value}", file=sys.stderr)
            return 2
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
          f"images, {epochs} epoch{'s' * (epochs != 1)}, {model.num_parameters():,} parameters")
    optimizer = Adam(model.parameters(), lr=args.lr)
    with _blas_threads(args.threads):
        history = fit(model, X_train, y_train, epochs=epochs, batch_size=args.batch_size, optimizer=optimizer,
                      seed=args.seed, progress=not args.no_progress, lr_decay=LR_DECAY)
        test_acc = accuracy(model, X_test, y_test)
    for i, (loss, acc, sec) in enumerate(zip(history.epoch_loss, history.train_acc, history.seconds)):
        print(f"epoch {i + 1}: loss {loss:.4f}, train accuracy {acc:.4f}, {sec:.1f} s")
    print(f"test accuracy: {test_acc:.4f}")
    print(f"seconds: {time.perf_counter() - start:.1f}")
    return 0
