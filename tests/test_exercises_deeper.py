"""The deeper exercises (cnnbook/course/exercises/deeper.py: dilated_receptive_field in 05, im2col in 07,
local_param_count in 09), and every later exercise in its notebook (05-11, the predictions of
tests/test_exercises_predict.py too): graded, and its student stub is not done yet.

The deeper checks accept learner-style right answers and name plausible mistakes in words.
"""
from pathlib import Path

import nbformat
import numpy as np
import pytest
from exercise_helpers import rejects

from cnnbook import backend, exercises, layers
from cnnbook.course.exercises import references
from cnnbook.course.exercises.deeper import _dilation_own_layer_too
from cnnbook.course.exercises.predict import PREDICTIONS
from cnnbook.course.grading import graded_cells
from cnnbook.course.student import student_notebook
from cnnbook.models.local import LocallyConnected2d

gam = backend.get_array_module


# ---- learner-style right answers ---------------------------------------------------------------
def im2col(x, kernel_size, stride=1, padding=0):
    xp, K, S, P = gam(x), kernel_size, stride, padding
    N, C, H, W = x.shape
    xpad = xp.pad(x, ((0, 0), (0, 0), (P, P), (P, P)))  # (N, C, H+2P, W+2P)
    Ho, Wo = (H - K + 2 * P) // S + 1, (W - K + 2 * P) // S + 1
    cols = xp.zeros((N, C * K * K, Ho * Wo), dtype=x.dtype)
    for i in range(Ho):
        for j in range(Wo):
            cols[:, :, i * Wo + j] = xpad[:, :, i * S:i * S + K, j * S:j * S + K].reshape(N, -1)
    return cols


def local_param_count(in_channels, out_channels, kernel_size, input_size, stride=1, padding=0):
    Ho = (input_size - kernel_size + 2 * padding) // stride + 1
    return Ho * Ho * out_channels * (in_channels * kernel_size ** 2 + 1)


def dilated_receptive_field(stack):
    field, jump = 1, 1
    for k, s, d in stack:
        field += d * (k - 1) * jump
        jump *= s
    return field


RIGHT = [(exercises.check_dilated_receptive_field, dilated_receptive_field), (exercises.check_im2col, im2col),
         (exercises.check_local_param_count, local_param_count)]
# tests/test_exercises.py runs its generic tests (every backend, the stub, crashes, non-functions) over these too


# ---- dilated receptive field ---------------------------------------------------------------------
def _field(stack, span=lambda k, d: d * (k - 1), jump_factor=lambda s, d: s):
    field, jump = 1, 1
    for k, s, d in stack:
        field += span(k, d) * jump
        jump *= jump_factor(s, d)
    return field


@pytest.mark.parametrize("wrong, hint", [
    (lambda stack: _field(stack, span=lambda k, d: k - 1), "the dilations are missing"),
    (lambda stack: _field(stack, span=lambda k, d: d * k - 1), "not d * K"),
    (lambda stack: _field(stack, span=lambda k, d: k - 1, jump_factor=lambda s, d: s * d), "dilation is not stride"),
    (lambda stack: _field([(k, 1, d) for k, _, d in stack]), "the strides are missing"),
    (lambda stack: float(dilated_receptive_field(stack)), "return an int"),
])
def test_dilated_receptive_field_mistakes(wrong, hint):
    rejects(exercises.check_dilated_receptive_field, wrong, hint)


def test_the_layer_order_and_the_triple_order_are_named():
    rejects(exercises.check_dilated_receptive_field, lambda stack: dilated_receptive_field(stack[::-1]),
            "last first", "first layer first")
    rejects(exercises.check_dilated_receptive_field,
            lambda stack: dilated_receptive_field([(k, d, s) for k, s, d in stack]),
            "stride and dilation are swapped", "(kernel_size, stride, dilation)")


def test_im2col_pads_with_zeros():
    def edge_padding(x, kernel_size, stride=1, padding=0):
        P = padding
        return im2col(gam(x).pad(x, ((0, 0), (0, 0), (P, P), (P, P)), mode="edge"), kernel_size, stride, 0)
    rejects(exercises.check_im2col, edge_padding, "padding=1", "repeats the edge pixels", "pad with zeros")


def test_im2col_keeps_the_dtype():
    rejects(exercises.check_im2col, lambda x, K, stride=1, padding=0: im2col(x, K, stride, padding).astype("float32"),
            "cols has dtype float32, expected float64")


def test_dilation_carried_over_to_later_layers_is_named():
    rejects(exercises.check_dilated_receptive_field, _dilation_own_layer_too, "it does not carry over to later layers")


def test_dilated_field_without_dilation_is_the_plain_field():
    stack = [(3, 1), (2, 2), (5, 1), (3, 2), (3, 1)]
    assert dilated_receptive_field([(k, s, 1) for k, s in stack]) == layers.receptive_field(stack)


def test_a_dilated_field_that_changes_its_list_is_named():
    def wrong(stack):
        value = dilated_receptive_field(stack)
        stack.clear()
        return value
    rejects(exercises.check_dilated_receptive_field, wrong, "changed the list it was given")


# ---- im2col --------------------------------------------------------------------------------------
def _variant(kind):
    """im2col with one plausible mistake."""
    def wrong(x, kernel_size, stride=1, padding=0):
        K, S, P = kernel_size, stride, padding
        if kind == "no_padding":
            P = 0
        if kind == "no_stride":
            S = 1
        cols = im2col(x, K, S, P)
        N, D, L = cols.shape
        C = x.shape[1]
        Ho = (x.shape[2] - K + 2 * P) // S + 1
        Wo = L // Ho
        grid = cols.reshape(N, C, K, K, Ho, Wo)
        if kind == "positions_first":
            return cols.transpose(0, 2, 1)
        if kind == "channels_last":
            return grid.transpose(0, 2, 3, 1, 4, 5).reshape(N, D, L)
        if kind == "window_transposed":
            return grid.transpose(0, 1, 3, 2, 4, 5).reshape(N, D, L)
        if kind == "column_order":
            return grid.transpose(0, 1, 2, 3, 5, 4).reshape(N, D, L)
        if kind == "unflattened":
            return grid.reshape(N, D, Ho, Wo)
        return cols
    return wrong


@pytest.mark.parametrize("kind, hint", [
    ("positions_first", "transpose the last two axes"),
    ("no_padding", "is the padding applied?"),
    ("no_stride", "is the stride applied?"),
    ("channels_last", "channels last; flatten it (C, K, K)"),
    ("window_transposed", "flattened column by column (transposed)"),
    ("column_order", "numbered column by column; number them row by row"),
    ("unflattened", "merge the positions into one axis"),
])
def test_im2col_mistakes(kind, hint):
    rejects(exercises.check_im2col, _variant(kind), hint)


def test_im2col_gives_the_convolution_as_one_matrix_product():
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((2, 3, 7, 9)), rng.standard_normal((4, 3, 3, 3)), rng.standard_normal(4)
    cols = im2col(x, 3, stride=2, padding=1)  # (2, 27, 4*5)
    out = (w.reshape(4, -1) @ cols).reshape(2, 4, 4, 5) + b[:, None, None]
    np.testing.assert_allclose(out, layers.conv2d_forward(x, w, b, stride=2, padding=1)[0], rtol=1e-10)


def test_im2col_that_returns_a_list_is_named():
    rejects(exercises.check_im2col, lambda x, k, stride=1, padding=0: [im2col(x, k, stride, padding)],
            "returned a list of 1 items")


# ---- local_param_count ---------------------------------------------------------------------------
def _out(W, K, S, P):
    return (W - K + 2 * P) // S + 1


@pytest.mark.parametrize("wrong, hint", [
    (lambda C, F, K, W, stride=1, padding=0: F * (C * K * K + 1), "that is the convolution's count"),
    (lambda C, F, K, W, stride=1, padding=0: W * W * F * (C * K * K + 1), "count the positions of the output"),
    (lambda C, F, K, W, stride=1, padding=0: _out(W, K, stride, padding) ** 2 * F * C * K * K + F,
     "the bias is not shared either"),
    (lambda C, F, K, W, stride=1, padding=0: _out(W, K, stride, padding) ** 2 * F * C * K * K,
     "the biases are missing"),
    (lambda C, F, K, W, stride=1, padding=0: _out(W, K, stride, 0) ** 2 * F * (C * K * K + 1),
     "is the padding counted"),
    (lambda C, F, K, W, stride=1, padding=0: _out(W, K, 1, padding) ** 2 * F * (C * K * K + 1),
     "is the stride used"),
    (lambda C, F, K, W, stride=1, padding=0: _out(W, K, stride, padding) ** 2 * F * (K * K + 1),
     "each filter spans all input channels"),
    (lambda C, F, K, W, stride=1, padding=0: _out(W, K, stride, padding) * F * (C * K * K + 1),
     "multiply by both sides"),
])
def test_local_param_count_mistakes(wrong, hint):
    rejects(exercises.check_local_param_count, wrong, hint)


def test_local_param_count_wants_an_int():
    rejects(exercises.check_local_param_count,
            lambda *a, **k: float(local_param_count(*a, **k)), "return an int")


@pytest.mark.parametrize("args", [(1, 16, 3, 28, 1, 1), (3, 8, 5, 32, 1, 0), (2, 4, 3, 11, 2, 0),
                                  (8, 2, 3, 9, 2, 1), (4, 3, 6, 6, 1, 0)])
def test_the_reference_count_is_the_locally_connected_layers(args):
    C, F, K, W, S, P = args
    assert references.local_param_count(*args) == LocallyConnected2d(C, F, K, W, S, P).num_parameters()


# ---- the notebooks: every new exercise is graded, and its student stub is not done yet ------------
NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
# exercise (the grade id of its answer cell) -> (notebook, check, what the learner writes)
NEW_EXERCISES = {
    "dilated_receptive_field": ("05-receptive-field", "check_dilated_receptive_field", "def"),
    "im2col": ("07-backprop-through-conv", "check_im2col", "def"),
    "predict_shift_drop": ("09-equivariance-invariance-sharing", "check_shift_drop_prediction", "predicted_drop"),
    "local_param_count": ("09-equivariance-invariance-sharing", "check_local_param_count", "def"),
    "predict_nopos_shuffle": ("10-cnn-vs-transformer", "check_nopos_shuffle_prediction", "predicted_changes"),
    "predict_shuffle_most_hurt": ("10-cnn-vs-transformer", "check_shuffle_most_hurt_prediction",
                                  "predicted_most_hurt"),
    "predict_rotation_90": ("11-cnn-limitations", "check_rotation_prediction", "predicted_accuracy_90"),
    "predict_cue": ("11-cnn-limitations", "check_cue_prediction", "predicted_cue"),
}


def _cells(stem):
    nb = nbformat.read(NOTEBOOKS / f"{stem}.ipynb", as_version=4)
    return nb, graded_cells(nb)


def test_the_workbook_has_at_least_22_exercises_and_4_in_notebooks_09_to_11():
    answers = {}
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        _, cells = _cells(path.stem)
        answers[path.stem[:2]] = [g for _, role, g in cells if role == "solution"]
    assert sum(map(len, answers.values())) >= 22, answers
    assert sum(len(answers[n]) for n in ("09", "10", "11")) >= 4
    predictions = [g for n in ("09", "10", "11") for g in answers[n] if g.startswith("predict_")]
    assert len(predictions) >= 3, predictions


@pytest.mark.parametrize("name", sorted(NEW_EXERCISES))
def test_each_new_exercise_is_answered_then_checked_by_its_own_check(name):
    stem, check, _ = NEW_EXERCISES[name]
    _, cells = _cells(stem)
    roles = [(role, grade_id) for _, role, grade_id in cells]
    i = roles.index(("solution", name))
    assert roles[i + 1] == ("tests", check), f"{stem}: {name} is followed by {roles[i + 1]}, not {check}"


@pytest.mark.parametrize("name", sorted(NEW_EXERCISES))
def test_the_student_stub_of_each_new_exercise_is_not_done_yet_and_names_it(name, capsys):
    """The student edition's stub of the answer cell names the exercise and does not stop the notebook: a
    function raises NotImplementedError when the check calls it, a prediction is set to ``...``; either way the
    check notes it as not done yet on stderr."""
    stem, check, variable = NEW_EXERCISES[name]
    nb, cells = _cells(stem)
    student, names = student_notebook(nb, f"{stem}.ipynb")
    assert name in names
    index = next(i for i, role, g in cells if role == "solution" and g == name)
    source = student.cells[index].source
    assert "### BEGIN SOLUTION" not in source and f"Your turn: {name}:" in source
    namespace = {"get_array_module": backend.get_array_module}
    exec(source, namespace)  # the answer cell itself runs in either case
    if variable == "def":
        assert getattr(exercises, check)(namespace[name]) is not namespace[name]  # the reference instead
    else:
        assert "raise" not in source and namespace[variable] is Ellipsis
        getattr(exercises, check)(namespace[variable], 0.5)
    assert capsys.readouterr().err.startswith("not done yet: ")
    if variable != "def":
        # the instructor's answer is a well-formed prediction (the check passes it, whatever the measurement)
        solved = {}
        exec(nb.cells[index].source, solved)
        task = next(p for p in PREDICTIONS.values() if p.variable == variable)
        assert getattr(exercises, check)(solved[variable], 0.5 if task.kind == "number" else task.options[0]) \
            == solved[variable]
