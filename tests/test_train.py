"""cnnbook.train, cnnbook.data.augment and ``python -m cnnbook train``."""
import math
import re
import subprocess
import sys

import numpy as np
import pytest

from cnnbook import backend, nn
from cnnbook.data.augment import Augment, random_hflip, random_shift, shift
from cnnbook.optim import SGD, Adam
from cnnbook.train import TrainingDiverged, accuracy, confusion_matrix, evaluate, fit, predict, predict_scores


def tiny_cnn(seed=0):
    rng = np.random.default_rng(seed)
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1, rng=rng), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(4 * 4 * 4, 10, rng=rng))


def tiny_data(n=20, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.random((n, 1, 8, 8), dtype=np.float32)  # (N, 1, 8, 8)
    y = rng.integers(0, 10, size=n)
    return X, y


def test_small_net_overfits_a_tiny_batch(xp):
    model = tiny_cnn()
    X, y = tiny_data()
    X, y = backend.to_device(X, xp), backend.to_device(y, xp)
    history = fit(model, X, y, epochs=60, batch_size=20, optimizer=Adam(model.parameters(), lr=2e-2),
                  progress=False)
    assert history.epoch_loss[-1] < 0.05 < history.epoch_loss[0]
    assert history.train_acc[-1] == 1.0
    assert accuracy(model, X, y) == 1.0


def test_fit_skips_the_first_layers_input_gradient_and_learns_the_same(monkeypatch):
    # fit runs backward_params: the first convolution computes no dx (nothing uses it), the weights end the same
    # as with a loop that runs the full backward pass.
    from cnnbook import layers
    from cnnbook.train import iterate_minibatches
    X, y = tiny_data(32)
    manual = tiny_cnn(seed=3)
    optimizer = SGD(manual.parameters(), lr=0.1)
    for X_batch, y_batch in iterate_minibatches(X, y, 16, rng=np.random.default_rng(0)):  # fit's order, seed 0
        optimizer.zero_grad()
        _, dscores = layers.softmax_cross_entropy(manual(X_batch), y_batch)
        manual.backward(dscores)
        optimizer.step()
    seen = []
    full = layers.conv2d_backward
    monkeypatch.setattr(layers, "conv2d_backward", lambda dout, cache, input_grad=True: (
        seen.append(input_grad), full(dout, cache, input_grad=input_grad))[1])
    model = tiny_cnn(seed=3)
    fit(model, X, y, epochs=1, batch_size=16, optimizer=SGD(model.parameters(), lr=0.1), seed=0, progress=False)
    assert seen == [False, False]  # one step per batch, no input gradient
    for p, q in zip(model.parameters(), manual.parameters()):
        np.testing.assert_array_equal(p.data, q.data)


def test_fit_is_deterministic_and_records_history():
    X, y = tiny_data(50)
    runs = []
    for _ in range(2):
        model = tiny_cnn(seed=3)
        h = fit(model, X, y, X[:10], y[:10], epochs=2, batch_size=16, optimizer=SGD(model.parameters(), lr=0.1),
                seed=7, augment=Augment(shift=1, flip=True), progress=False)
        runs.append((h, backend.to_numpy(model[0].weight.data)))
    (h1, w1), (h2, w2) = runs
    assert h1.loss == h2.loss and np.array_equal(w1, w2)
    assert len(h1.loss) == 2 * 4 and len(h1.epoch_loss) == len(h1.val_acc) == len(h1.seconds) == 2
    assert h1.epoch_loss[0] == pytest.approx(np.mean(h1.loss[:4]))
    assert h1.steps_per_epoch == 4 and set(h1.as_dict()) >= {"loss", "val_acc"}
    model = tiny_cnn(seed=3)
    other = fit(model, X, y, epochs=2, batch_size=16, optimizer=SGD(model.parameters(), lr=0.1), seed=8,
                progress=False)
    assert other.loss != h1.loss


def test_host_data_trains_a_device_model(xp):
    model = tiny_cnn()
    X, y = tiny_data(30)
    h = fit(model, X, y, X, y, epochs=1, batch_size=8, progress=False, augment=Augment(shift=1))
    assert len(h.loss) == 4 and 0 <= h.val_acc[0] <= 1
    assert backend.get_array_module(model[0].weight.data) is xp


@pytest.mark.filterwarnings("ignore:overflow encountered")
def test_diverging_loss_stops_with_advice():
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 10, rng=0))  # no ReLU that could die and stop the blow-up
    X, y = tiny_data()
    with pytest.raises(TrainingDiverged, match=r"became (nan|inf) at epoch \d+, step \d+.*smaller learning rate, "
                                               r"e.g. lr=1e\+36"):
        fit(model, X, y, epochs=20, batch_size=5, optimizer=SGD(model.parameters(), lr=1e37), progress=False)
    assert issubclass(TrainingDiverged, FloatingPointError)


def test_lr_decay_changes_the_optimizer():
    model = tiny_cnn()
    X, y = tiny_data()
    opt = SGD(model.parameters(), lr=0.1)
    fit(model, X, y, epochs=2, batch_size=10, optimizer=opt, lr_decay=0.5, progress=False)
    assert opt.lr == pytest.approx(0.025)


@pytest.mark.parametrize("kwargs, error, match", [
    ({"epochs": 0}, ValueError, "epochs=0"),
    ({"batch_size": 2.5}, ValueError, "batch_size=2.5"),
    ({"loss": "hinge"}, ValueError, "loss='hinge'"),
    ({"X_val": np.zeros((2, 1, 8, 8), np.float32)}, ValueError, "both X_val and y_val"),
    ({"lr_decay": 0}, ValueError, "lr_decay=0"),
    ({"seed": "a"}, TypeError, "rng='a'"),
])
def test_fit_rejects_bad_arguments(kwargs, error, match):
    X, y = tiny_data()
    with pytest.raises(error, match=match):
        fit(tiny_cnn(), X, y, progress=False, **kwargs)
    with pytest.raises(ValueError, match="20 examples but its labels have 19"):
        fit(tiny_cnn(), X, y[:-1], progress=False)


def test_svm_loss_and_batched_evaluation_agree(xp):
    model = tiny_cnn()
    X, y = tiny_data(37)
    X, y = backend.to_device(X, xp), backend.to_device(y, xp)
    fit(model, X, y, epochs=1, batch_size=8, loss="svm", progress=False)
    model.train()
    full = backend.to_numpy(model(X))
    np.testing.assert_allclose(predict_scores(model, X, batch_size=5), full, rtol=1e-5, atol=1e-6)
    assert model.training  # evaluation puts the mode back
    pred = predict(model, X, batch_size=5)
    assert type(pred) is np.ndarray and np.array_equal(pred, full.argmax(axis=1))
    acc = float((pred == backend.to_numpy(y)).mean())
    assert accuracy(model, X, y, batch_size=6) == pytest.approx(acc)
    loss, acc2 = evaluate(model, X, y, batch_size=6)
    assert acc2 == pytest.approx(acc) and math.isfinite(loss)


def test_confusion_matrix():
    cm = confusion_matrix(np.array([0, 0, 1, 2, 2, 2]), np.array([0, 1, 1, 2, 0, 2]), num_classes=3)
    np.testing.assert_array_equal(cm, [[1, 1, 0], [0, 1, 0], [1, 0, 2]])
    with pytest.raises(ValueError, match="outside 0..2"):
        confusion_matrix(np.array([3]), np.array([0]), num_classes=3)
    with pytest.raises(ValueError, match="2 true labels but 1 predictions"):
        confusion_matrix(np.array([0, 1]), np.array([0]))


def test_shift_and_flip_move_pixels(xp):
    X = backend.to_device(np.arange(2 * 1 * 3 * 4, dtype=np.float32).reshape(2, 1, 3, 4), xp)
    right = backend.to_numpy(shift(X, 0, 1))
    np.testing.assert_array_equal(right[:, :, :, 1:], backend.to_numpy(X)[:, :, :, :-1])
    assert not right[:, :, :, 0].any()
    up = backend.to_numpy(shift(X, -2, 0))
    np.testing.assert_array_equal(up[:, :, 0], backend.to_numpy(X)[:, :, 2])
    assert not up[:, :, 1:].any()
    assert not backend.to_numpy(shift(X, 5, 0)).any()
    flipped = random_hflip(X, p=1.0, rng=0)
    assert backend.get_array_module(flipped) is xp
    np.testing.assert_array_equal(backend.to_numpy(flipped), backend.to_numpy(X)[..., ::-1])
    np.testing.assert_array_equal(backend.to_numpy(random_hflip(X, p=0.0, rng=0)), backend.to_numpy(X))


def test_random_shift_is_seeded_and_keeps_content(xp):
    X = np.zeros((64, 1, 9, 9), np.float32)
    X[:, :, 4, 4] = 1  # one bright pixel in the centre of each image
    out = backend.to_numpy(random_shift(backend.to_device(X, xp), 2, rng=0))
    assert out.shape == X.shape and np.all(out.sum(axis=(1, 2, 3)) == 1)
    rows, cols = np.nonzero(out[:, 0])[1:]
    assert set(rows) == set(cols) == {2, 3, 4, 5, 6}  # every shift in [-2, 2] occurs among 64 images
    again = backend.to_numpy(random_shift(backend.to_device(X, xp), 2, rng=0))
    np.testing.assert_array_equal(out, again)
    with pytest.raises(ValueError, match="max_shift=-1"):
        random_shift(X, -1)
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        Augment()(X[0], rng=0)


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "cnnbook", "train", *args], capture_output=True, text=True,
                          timeout=300)


def test_train_command_end_to_end():
    result = run_cli("--epochs", "2", "--limit", "300", "--seed", "1", "--no-progress")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert re.fullmatch(r"test accuracy: 0\.\d{4}", lines[-2]), lines
    assert re.fullmatch(r"seconds: \d+(\.\d)?", lines[-1]), lines
    assert float(lines[-2].split()[-1]) > 0.3  # 10 classes: chance is 0.1
    assert "300 training and 300 test images, 2 epochs" in result.stdout
    assert "warning" not in result.stderr  # it learned: no warning that it ends at chance


def test_train_command_rejects_bad_options():
    result = run_cli("--epochs", "0")
    assert result.returncode == 2 and "argument --epochs: must be a positive integer, got 0" in result.stderr


def test_training_plots_and_callbacks_outside_notebooks():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from cnnbook.viz.training import LiveLossPlot, plot_confusion_matrix, plot_history, show_misclassified

    model = tiny_cnn()
    X, y = tiny_data(24)
    calls = []

    class Recorder:
        def __call__(self, history, end_of_epoch):
            calls.append((len(history.loss), end_of_epoch))

        def close(self):
            calls.append("closed")

    history = fit(model, X, y, X, y, epochs=2, batch_size=8, callback=Recorder(), progress=False)
    # 3 steps per epoch: a call after every step (history.loss up to it), one at each epoch's end, then close()
    assert calls == [(1, False), (2, False), (3, False), (3, True), (4, False), (5, False), (6, False), (6, True),
                     "closed"]
    live = LiveLossPlot()
    assert live.handle is None  # no IPython kernel here: draws nothing, fails nothing
    fit(model, X, y, epochs=1, batch_size=8, callback=live, progress=False)
    fig = plot_history(history)
    assert [ax.get_xlabel() for ax in fig.axes] == ["step (minibatch)", "epoch"]
    pred = predict(model, X)
    fig2 = plot_confusion_matrix(confusion_matrix(y, pred), [f"class {k}" for k in range(10)])
    assert fig2.axes[0].get_ylabel() == "true class"
    wrong = int((pred != y).sum())
    if wrong:
        fig3 = show_misclassified(X, y, pred, max_images=4)
        assert sum(ax.has_data() for ax in fig3.axes) == min(4, wrong)
    with pytest.raises(ValueError, match="every prediction is right"):
        show_misclassified(X, y, y)
    plt.close("all")


def test_train_command_without_a_gpu_says_why():
    if backend.gpu_status()[0]:
        pytest.skip("a GPU works here")
    result = run_cli("--backend", "cupy", "--limit", "10")
    assert result.returncode == 1
    assert "--backend cupy needs a working GPU" in result.stderr and "Use --backend numpy" in result.stderr


# ---------------------------------------------------------------- issue 15: clear refusals, bounded memory
def test_fit_refuses_an_optimizer_over_another_models_parameters():
    X, y = tiny_data()
    model, other = tiny_cnn(seed=0), tiny_cnn(seed=1)
    before = backend.to_numpy(model[0].weight.data).copy()
    with pytest.raises(ValueError, match=r"4 of the optimizer's 4 parameters.*not parameters of this model.*"
                                         r"Adam\(model.parameters\(\)"):
        fit(model, X, y, epochs=1, optimizer=Adam(other.parameters()), progress=False)
    np.testing.assert_array_equal(backend.to_numpy(model[0].weight.data), before)
    # A subset of the model's own parameters (fine-tuning the last layer) is fine.
    h = fit(model, X, y, epochs=1, optimizer=SGD(model[4].parameters(), lr=0.1), progress=False)
    assert len(h.loss) == 1
    np.testing.assert_array_equal(backend.to_numpy(model[0].weight.data), before)


def with_nan(X, i=3):
    X = X.copy()
    X[i, 0, 2, 5] = np.nan
    return X


def test_nan_in_the_training_data_is_named_before_training(xp):
    X, y = tiny_data()
    model = tiny_cnn()
    with pytest.raises(ValueError, match=r"^X holds NaN or infinite values \(first in example 3\)") as info:
        fit(model, backend.to_device(with_nan(X), xp), backend.to_device(y, xp), epochs=1, progress=False)
    assert not isinstance(info.value, TrainingDiverged) and "learning rate" not in str(info.value)
    with pytest.raises(ValueError, match=r"^X_val holds NaN.*example 7"):
        fit(model, X, y, with_nan(X, 7), y, epochs=1, progress=False)


def test_divergence_from_an_augmentation_that_makes_nan_says_so():
    X, y = tiny_data()

    def broken_augment(X_batch, rng):
        return X_batch * np.float32(np.nan)

    with pytest.raises(TrainingDiverged, match="input holds NaN or infinite values after augment"):
        fit(tiny_cnn(), X, y, epochs=1, augment=broken_augment, progress=False)


def test_evaluation_refuses_nan_instead_of_reporting_an_accuracy(xp):
    X, y = tiny_data(40)
    Xn, yd = backend.to_device(with_nan(X, 35), xp), backend.to_device(y, xp)
    model = tiny_cnn()
    for call in (lambda: accuracy(model, Xn, yd), lambda: evaluate(model, Xn, yd), lambda: predict(model, Xn),
                 lambda: predict_scores(model, Xn, batch_size=7)):
        with pytest.raises(ValueError, match=r"X holds NaN or infinite values \(first in example 35\)"):
            call()


def test_confusion_matrix_refuses_fractional_labels():
    with pytest.raises(ValueError, match=r"y_pred holds values that are not class indices \(1.5"):
        confusion_matrix(np.array([0, 1]), np.array([0.0, 1.5]), num_classes=3)
    with pytest.raises(ValueError, match=r"y_true holds values that are not class indices \(nan"):
        confusion_matrix(np.array([0.0, np.nan]), np.array([0, 1]), num_classes=3)
    np.testing.assert_array_equal(confusion_matrix(np.array([0.0, 2.0]), np.array([0, 2]), num_classes=3),
                                  [[1, 0, 0], [0, 0, 0], [0, 0, 1]])


def test_empty_or_non_array_input_is_refused_clearly():
    X, y = tiny_data()
    model = tiny_cnn()
    for call in (lambda: predict(model, X[:0]), lambda: predict_scores(model, X[:0]),
                 lambda: accuracy(model, X[:0], y[:0])):
        with pytest.raises(ValueError, match=r"X is empty \(shape \(0, 1, 8, 8\)\)"):
            call()
    with pytest.raises(TypeError, match=r"X must be an array.*got list.*numpy.asarray"):
        predict(model, X.tolist())


def test_iterate_minibatches_refuses_lists_and_bad_rngs():
    from cnnbook.train import iterate_minibatches
    X, y = tiny_data()
    with pytest.raises(TypeError, match=r"X must be an array.*got list"):
        next(iterate_minibatches(X.tolist(), y, 4, rng=0))
    with pytest.raises(TypeError, match=r"y must be an array.*got list"):
        next(iterate_minibatches(X, y.tolist(), 4, rng=0))
    with pytest.raises(TypeError, match=r"rng='abc' is neither an int seed"):
        next(iterate_minibatches(X, y, 4, rng="abc"))


def test_a_huge_evaluation_batch_is_split_to_bound_memory(monkeypatch, xp):
    import cnnbook.train as train
    X, y = tiny_data(300)
    X, y = backend.to_device(X, xp), backend.to_device(y, xp)
    model = tiny_cnn()
    expected = predict_scores(model, X, batch_size=300)
    seen = []
    forward = model.forward

    def counting_forward(x):
        seen.append(x.shape[0])
        return forward(x)

    monkeypatch.setattr(model, "forward", counting_forward)
    # Tiny budget: a few examples' activations. The first batch (32) measures them; the rest are cut to fit.
    monkeypatch.setattr(train, "EVAL_MEMORY_BYTES", 20_000)
    got = predict_scores(model, X, batch_size=300)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    assert seen[0] == 32 and sum(seen) == 300 and max(seen[1:]) < 32 and len(set(seen[1:-1])) == 1
    assert all(m._cache is None for m in model.modules())  # evaluation frees its activations
    loss, acc = evaluate(model, X, y, batch_size=300)
    assert acc == pytest.approx(float((expected.argmax(axis=1) == backend.to_numpy(y)).mean()))


def blas_threads_now():
    from threadpoolctl import threadpool_info
    return [info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"]


def test_fit_and_evaluation_run_blas_on_one_thread_and_the_layers_on_the_chosen_threads(monkeypatch, tmp_path):
    monkeypatch.delenv("CNNBOOK_BLAS_THREADS", raising=False)
    monkeypatch.setattr(backend, "PROC_STAT", str(tmp_path / "missing"))  # the default: every available CPU
    monkeypatch.setattr(backend, "_busy_sample", None)
    X, y = tiny_data()
    model = tiny_cnn()
    before = blas_threads_now()
    assert before, "threadpoolctl sees no BLAS library under NumPy"
    seen = []
    forward = model.forward
    monkeypatch.setattr(model, "forward",
                        lambda x: (seen.append((blas_threads_now(), backend.layer_threads())), forward(x))[1])
    fit(model, X, y, X, y, epochs=1, batch_size=10, progress=False)
    predict(model, X), predict_scores(model, X), evaluate(model, X, y), accuracy(model, X, y)
    # the layers split their work themselves (cnnbook.layers.parallel), over the CPUs this process may use
    assert len(seen) >= 7 and all(s == ([1] * len(before), backend.available_cpus()) for s in seen)
    assert blas_threads_now() == before  # the setting lasts only as long as the call
    seen.clear()
    with backend.blas_threads(3):  # an outer block wins over the default
        accuracy(model, X, y)
    assert seen and all(s == ([1] * len(before), 3) for s in seen)
    seen.clear()
    monkeypatch.setenv("CNNBOOK_BLAS_THREADS", "2")
    predict(model, X)
    assert seen and all(s == ([1] * len(before), 2) for s in seen)
    monkeypatch.setenv("CNNBOOK_BLAS_THREADS", "many")
    with pytest.raises(ValueError, match=r"\$CNNBOOK_BLAS_THREADS='many' must be a positive integer"):
        predict(model, X)
    with pytest.raises(ValueError, match="n=0 must be a positive integer"):
        with backend.blas_threads(0):
            pass


def test_importing_the_package_leaves_blas_threads_alone():
    code = ("import numpy, threadpoolctl\n"
            "n = lambda: [i['num_threads'] for i in threadpoolctl.threadpool_info() if i['user_api'] == 'blas']\n"
            "before = n()\n"
            "import cnnbook, cnnbook.train, cnnbook.nn, cnnbook.models\n"
            "assert n() == before, (before, n())\n"
            "print(before)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr


def test_fit_to_plateau_stops_after_patience_and_keeps_the_best_weights():
    from cnnbook.train import fit_to_plateau
    model = tiny_cnn()
    X, y = tiny_data(40)
    X_val, y_val = tiny_data(20, seed=1)  # random labels: validation accuracy cannot keep rising
    val_acc = fit_to_plateau(model, X, y, X_val, y_val, chunk=40, max_chunks=8, patience=2,
                             optimizer=Adam(model.parameters(), lr=1e-2), seed=0)
    best = val_acc.index(max(val_acc))
    assert len(val_acc) == 8 or len(val_acc) - 1 - best == 2      # stopped by the cap or by patience
    assert accuracy(model, X_val, y_val) == max(val_acc)         # the best chunk's weights were put back
    with pytest.raises(ValueError, match="patience=0 must be >= 1"):
        fit_to_plateau(model, X, y, X_val, y_val, patience=0)
