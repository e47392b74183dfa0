"""The package's input checks (``cnnbook.layers.checks``): what they accept, what they refuse, and the hints."""
import ast
import math
import re
from pathlib import Path

import numpy as np
import pytest

from cnnbook import layers
from cnnbook.course.language import set_language
from cnnbook.layers.checks import (
    WrongKindError,
    array,
    is_number,
    is_whole_number,
    number,
    pair,
    same_dtype,
    whole_number,
)

PACKAGE = Path(__file__).resolve().parents[1] / "cnnbook"
HANGUL = re.compile("[\uac00-\ud7a3]")


@pytest.fixture(autouse=True)
def english():
    set_language("en")
    yield
    set_language(None)


def message(call) -> str:
    with pytest.raises((TypeError, ValueError)) as info:
        call()
    return str(info.value)


def test_whole_numbers_are_ints_and_numpy_integers_never_bools_or_floats():
    assert [is_whole_number(v) for v in (3, np.int64(3), np.uint8(3), -2)] == [True] * 4
    assert not any(is_whole_number(v) for v in (True, np.bool_(True), 3.0, np.float32(3), "3", None, np.array(3)))
    assert [is_number(v) for v in (3, 2.5, np.float32(2.5), np.int8(1), math.nan)] == [True] * 5
    assert not any(is_number(v) for v in (False, np.bool_(False), "2.5", None, 1j))
    value = whole_number(np.int64(7), "kernel_size", 1)
    assert value == 7 and type(value) is int


@pytest.mark.parametrize("value", [True, 1.5, 3.0, "3", None, np.float64(2.5), [1]])
def test_a_value_of_the_wrong_kind_is_a_type_error_and_a_value_error(value):
    """TypeError as the layers raised it, ValueError as the models, fit and the optimizers did."""
    with pytest.raises(WrongKindError) as info:
        whole_number(value, "stride", 1)
    assert isinstance(info.value, TypeError) and isinstance(info.value, ValueError)
    assert str(info.value).startswith(f"stride={value!r}".replace("np.float64(2.5)", "2.5"))


@pytest.mark.parametrize("value, minimum, suggested", [
    (1.5, 1, [1, 2]), (0.5, 1, [1]), (2.7, 0, [2, 3]), (np.float32(6.25), 1, [6, 7]), (-0.5, 0, [0]),
    (3.0, 1, [3]), ("4", 1, [4]), (True, 1, [1]), (None, 0, [1]), (-2.5, None, [-3, -2]), ("many", 8, [8]),
])
def test_the_hint_suggests_whole_numbers_near_the_value_never_int_of_it(value, minimum, suggested):
    """int(1.5) is 1: suggesting it would hide that the fraction is dropped; the hint names the choices."""
    for lang in ("en", "ko"):
        set_language(lang)
        text = message(lambda: whole_number(value, "stride", minimum))
        assert "int(" not in text, text
        assert [int(n) for n in re.findall(r"stride=(-?\d+)(?![\d.])", text)] == suggested, text
    assert HANGUL.search(text)


def test_every_layer_hint_for_a_fraction_offers_both_neighbours():
    text = message(lambda: layers.conv2d_forward(np.zeros((1, 1, 5, 5)), np.zeros((1, 1, 3, 3)), np.zeros(1),
                                                 stride=1.5))
    assert "stride=1 or stride=2" in text and "int(" not in text
    assert "int(" not in message(lambda: layers.receptive_field([(2.5, 1)]))


def test_below_the_minimum_is_a_value_error_naming_the_value_and_the_bound():
    with pytest.raises(ValueError) as info:
        whole_number(0, "stride", 1)
    assert not isinstance(info.value, TypeError) and str(info.value) == "stride=0 must be >= 1"
    assert whole_number(-4, "offset") == -4  # no minimum: any whole number


def test_a_pair_is_one_whole_number_twice_or_two_checked_one_by_one():
    assert pair(3, "kernel_size", 1) == (3, 3)
    assert pair([2, np.int32(5)], "kernel_size", 1) == (2, 5)
    assert message(lambda: pair((2, 0), "kernel_size", 1)) == "kernel_size[1]=0 must be >= 1"
    assert message(lambda: pair((2, 1.5), "stride", 1)).startswith("stride[1]=1.5 is not a whole number")
    assert "has 3 entries" in message(lambda: pair((1, 2, 3), "stride", 1))
    text = message(lambda: pair("2", "size", 1))
    assert "(height, width) pair" in text and "size=2" in text


def test_a_number_is_finite_and_within_its_bounds():
    assert number(np.float32(0.5), "p", minimum=0, maximum=1) == 0.5
    assert number(1, "p", minimum=0, maximum=1) == 1.0 and number(0, "weight_decay", minimum=0) == 0.0
    assert message(lambda: number(0, "lr", above=0)) == "lr=0 is out of range; pass a value with 0 < lr"
    assert message(lambda: number(1.0, "momentum", minimum=0, below=1)).endswith("0 <= momentum < 1")
    assert message(lambda: number(0.99, "f", minimum=0.05, maximum=0.95)).endswith("0.05 <= f <= 0.95")
    for bad in ("0.1", True, None, [0.1]):
        with pytest.raises(WrongKindError, match="is not a number"):
            number(bad, "lr", above=0)
    for bad in (math.nan, math.inf, -math.inf):
        with pytest.raises(WrongKindError, match="must be a finite number"):
            number(bad, "lr")


def test_an_array_has_its_named_axes_or_at_least_min_ndim():
    x = np.zeros((2, 3, 4, 4))
    assert array(x, "x", ("N", "C", "H", "W")) is x
    assert array(np.zeros((0, 3, 4, 4)), "x", ("N", "C", "H", "W")).shape[0] == 0  # an empty batch is fine
    assert "so C=0" in message(lambda: array(np.zeros((2, 0, 4, 4)), "x", ("N", "C", "H", "W")))
    assert "4-D with shape (N, C, H, W)" in message(lambda: array(x[0], "x", ("N", "C", "H", "W")))
    assert "1-D with shape (M,)" in message(lambda: array(x, "b", ("M",)))
    assert array(np.zeros((1,) * 40), "x", "(N, ...)", min_ndim=1).ndim == 40  # no upper limit on the axes
    assert "at least 1-D" in message(lambda: layers.relu_forward(np.zeros(())))
    assert "at least 2-D" in message(lambda: array(np.zeros(3), "x", "(N, ...)", min_ndim=2))
    assert "int64" in message(lambda: array(np.zeros((2, 3), int), "x", ("N", "D")))
    assert array(np.zeros(3, int), "y", ("N",), floating=False).dtype == int
    with pytest.raises(TypeError, match="list"):
        array([[1.0]], "x", ("N", "D"))
    with pytest.raises(TypeError, match="x is float32, w is float64"):
        same_dtype(x=np.zeros(1, np.float32), w=np.zeros(1), b=None)


# Hand-written "int but not bool" checks left outside the checks module, each with its reason.
ALLOWED = {
    "backend.py": "the backend sits below every other module (the checks import it): rng seeds, BLAS threads",
}
NUMBER_TYPES = {"int", "float", "Integral", "Real", "Number", "integer", "floating"}


def _isinstance_names(node) -> set:
    """The type names an ``isinstance(x, ...)`` call (under any ``not``) tests, else an empty set."""
    while isinstance(node, ast.UnaryOp):
        node = node.operand
    if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "isinstance" and len(node.args) == 2:
        return {n.id if isinstance(n, ast.Name) else n.attr for n in ast.walk(node.args[1])
                if isinstance(n, (ast.Name, ast.Attribute))}
    return set()


def hand_written_checks(source: str) -> list:
    """Lines of ``source`` that test "a number but not a bool" by hand: ``isinstance(v, bool)`` beside
    ``isinstance(v, <a number type>)`` in one ``and``/``or``."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.BoolOp):
            tested = [_isinstance_names(v) for v in node.values]
            if any("bool" in t for t in tested) and any(t & NUMBER_TYPES and "bool" not in t for t in tested):
                lines.append(node.lineno)
    return lines


def test_the_finder_sees_a_hand_written_check():
    assert hand_written_checks("ok = isinstance(v, bool) or not isinstance(v, numbers.Integral)") == [1]
    assert hand_written_checks("ok = isinstance(v, (int, np.integer)) and not isinstance(v, bool)") == [1]
    assert hand_written_checks("yes_no = isinstance(v, (bool, np.bool_))") == []  # a bool asked for, not refused
    assert hand_written_checks("skip = v is None or isinstance(v, (bool, int, float))") == []  # scalars skipped


def test_int_but_not_bool_checks_go_through_the_checks_module():
    found = [f"{path.relative_to(PACKAGE).as_posix()}:{line}" for path in sorted(PACKAGE.rglob("*.py"))
             if path.relative_to(PACKAGE).as_posix() not in ("layers/checks.py", *ALLOWED)
             for line in hand_written_checks(path.read_text(encoding="utf-8"))]
    assert not found, f"use cnnbook.layers.checks (is_whole_number, whole_number, number, ...): {found}"
