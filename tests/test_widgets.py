"""The widget shells: moving a control changes what they show exactly as the plain functions predict.

(The same widgets are driven in a real browser by tests/browser/.) The ``xp`` fixture makes the
default backend NumPy or a strict CuPy stand-in, so callbacks are proved to work on a GPU backend too.
"""
import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

from cnnbook import explore, widgets  # noqa: E402
from cnnbook.layers import receptive_field  # noqa: E402


def _classes(widget):
    return set(widget._dom_classes)


def test_hello_widget_reports_output_size():
    w = widgets.hello_widget()
    assert "cnnbook-hello" in _classes(w)
    assert "cnnbook-result" in _classes(w.result)
    assert "output <b>5 x 5</b>" in w.result.value
    w.controls["kernel_size"].value = 5
    assert "output <b>3 x 3</b> = 7 - 5 + 1" in w.result.value
    w.controls["input_size"].value = 4
    assert "larger than the padded input" in w.result.value


def test_output_size_explorer_follows_the_report():
    w = widgets.output_size_explorer()
    c = w.controls
    assert {"cnnbook-input-size", "cnnbook-kernel-size", "cnnbook-stride", "cnnbook-padding"} <= \
        set().union(*(_classes(c[k]) for k in ("input_size", "kernel_size", "stride", "padding")))
    for W_, K, S, P in [(8, 3, 2, 0), (7, 3, 2, 1), (16, 5, 3, 2), (5, 7, 1, 0)]:
        c["input_size"].value, c["kernel_size"].value, c["stride"].value, c["padding"].value = W_, K, S, P
        r = explore.output_size_report(W_, K, S, P)
        assert r.formula.replace(">", "&gt;").replace("<", "&lt;") in w.result.value
        assert ("cnnbook-does-not-fit" in _classes(w.result)) == (not r.fits)
        assert w.drawing.value.count('class="cnnbook-output-cell') == r.output_size ** 2
        assert c["position"].max == max(r.output_size ** 2 - 1, 0)
        assert c["fix"].disabled == (not r.suggestions)


def test_output_size_explorer_applies_a_suggestion_and_moves_the_kernel():
    w = widgets.output_size_explorer(input_size=8, kernel_size=3, stride=2)
    assert "Does not fit" in w.result.value
    w.controls["fix"].click()
    assert "Does not fit" not in w.result.value
    assert "cnnbook-does-not-fit" not in _classes(w.result)
    before = w.drawing.value
    w.controls["position"].value = w.controls["position"].max
    assert w.drawing.value != before and 'cnnbook-output-current' in w.drawing.value


def test_kernel_explorer_updates_the_map(xp):
    img = np.zeros((12, 12), dtype=np.float32)
    img[:, 6:] = 1.0
    w = widgets.kernel_explorer(img)
    assert "activation map shape (12, 12)" in w.result.value and "edge detector" in w.result.value
    first = bytes(w.drawing.value)
    assert first.startswith(b"\x89PNG")
    w.controls["preset"].value = "blur"
    assert bytes(w.drawing.value) != first
    assert w.controls["kernel"].value == explore.kernel_text(explore.KERNELS["blur"])
    assert "keeps its brightness" in w.result.value
    assert "values from 0 to 1" in w.result.value
    w.controls["kernel"].value = "0 0 0; 0 2 0; 0 0 0"
    assert "values from 0 to 2" in w.result.value
    w.controls["kernel"].value = "1 2; 3"
    assert "cnnbook-error" in w.result.value and "square" in w.result.value


def test_kernel_explorer_rejects_bad_input():
    with pytest.raises(ValueError, match="grey"):
        widgets.kernel_explorer(np.zeros((3, 8, 8)))
    with pytest.raises(ValueError, match="unknown preset 'emboss'"):
        widgets.kernel_explorer(np.zeros((8, 8)), preset="emboss")


def test_receptive_field_explorer_add_and_remove():
    w = widgets.receptive_field_explorer("3,1 3,1")
    assert "<b>5 x 5</b>" in w.result.value
    w.controls["kernel_size"].value, w.controls["stride"].value = 2, 2
    w.controls["add"].click()
    assert w.controls["layers"].value == "3,1 3,1 2,2"
    assert f"<b>{receptive_field([(3, 1), (3, 1), (2, 2)])} x" in w.result.value
    w.controls["remove"].click()
    assert w.controls["layers"].value == "3,1 3,1" and "<b>5 x 5</b>" in w.result.value
    w.controls["layers"].value = "7,1 7,1 7,1"
    assert "cnnbook-error" in w.result.value and "does not fit" in w.result.value
    w.controls["input_size"].value = 32
    assert "<b>19 x 19</b>" in w.result.value


def test_pooling_explorer(xp):
    x = np.arange(64, dtype=np.float32).reshape(8, 8)
    w = widgets.pooling_explorer(x)
    assert "(8, 8) → (4, 4)" in w.result.value
    w.controls["kernel_size"].value, w.controls["stride"].value = 4, 4
    assert "(8, 8) → (2, 2), 16.0x fewer values" in w.result.value
    before = bytes(w.drawing.value)
    w.controls["mode"].value = "avg"
    assert bytes(w.drawing.value) != before
    assert w.result.value.startswith("avg pooling")
    w.controls["stride"].value = 3
    assert "(8, 8) → (2, 2)" in w.result.value
    assert "the last 1 row(s) and 1 column(s) are never pooled" in w.result.value
    w.controls["kernel_size"].value, w.controls["stride"].value = 2, 2
    x_small = widgets.pooling_explorer(np.zeros((3, 3), dtype=np.float32), kernel_size=3, stride=1)
    x_small.controls["kernel_size"].value = 4
    assert "cnnbook-error" in x_small.result.value and "larger than the map" in x_small.result.value


@pytest.mark.parametrize("make, match", [
    (lambda: widgets.output_size_explorer(input_size=1000), r"input_size=1000 is outside this explorer's range 1..16"),
    (lambda: widgets.output_size_explorer(kernel_size=0), r"kernel_size=0 is outside this explorer's range 1..7"),
    (lambda: widgets.output_size_explorer(stride=9), r"stride=9 is outside this explorer's range 1..4"),
    (lambda: widgets.output_size_explorer(padding=-1), r"padding=-1 is outside this explorer's range 0..4"),
    (lambda: widgets.pooling_explorer(np.zeros((8, 8), np.float32), kernel_size=9),
     r"kernel_size=9 is outside this explorer's range 1..4"),
    (lambda: widgets.receptive_field_explorer(input_size=200), r"input_size=200 is outside.*4..64"),
])
def test_out_of_range_arguments_are_refused_not_clamped(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_explorer_arguments_of_the_wrong_kind_are_refused():
    with pytest.raises(TypeError, match=r"stride=1.5 is not a whole number"):
        widgets.output_size_explorer(stride=1.5)
    with pytest.raises(TypeError, match=r"layers must be a sequence of \(kernel_size, stride\) pairs, got None"):
        widgets.receptive_field_explorer(layers=None)
    with pytest.raises(ValueError, match="layers is empty"):
        widgets.receptive_field_explorer(layers=[])
    with pytest.raises(ValueError, match="could not read layers"):
        widgets.receptive_field_explorer(layers="3 by 1")
    with pytest.raises(ValueError, match="mode must be 'max' or 'avg', got 'min'"):
        widgets.pooling_explorer(np.zeros((8, 8), np.float32), mode="min")
    with pytest.raises(ValueError, match=r"x must be a 2-D map \(H, W\), got NoneType"):
        widgets.pooling_explorer(None)
    w = widgets.receptive_field_explorer([(3, 1), (2, 2)], input_size=np.int64(20))
    assert w.controls["layers"].value == "3,1 2,2" and w.controls["input_size"].value == 20
