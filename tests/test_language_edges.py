"""The edges speak the learner's language: explorers, widgets, figures, the layers' errors and ``doctor``.

For each part, in Korean the text is Korean (Hangul, no English sentence left over) with the same numbers as
the English, and the English is exactly today's. The catalogs of these parts (``explorers.po``,
``messages.po``) hold every template in use, translated with the same fields and the glossary's terms (their
register, 합니다체 as the notebooks, is checked with every catalog's in ``test_register_ko.py``).
"""
import argparse
import re
from collections import Counter
from functools import partial
from pathlib import Path

import numpy as np
import polib
import pytest

from cnnbook import explore, layers
from cnnbook.course import catalog, language
from cnnbook.course.language import set_language

ROOT = Path(__file__).resolve().parents[1]
PARTS = ("explorers.po", "messages.po")
HANGUL = re.compile("[\uac00-\ud7a3]")
# three English words in a row: a sentence (or a label) left untranslated
ENGLISH_RUN = re.compile(r"\b[A-Za-z]{2,}(?:[ ,]+[A-Za-z]{2,}){2,}\b")


@pytest.fixture(autouse=True)
def automatic_language(monkeypatch):
    monkeypatch.delenv(language.ENV, raising=False)
    set_language(None)
    yield
    set_language(None)


def numbers(text: str) -> Counter:
    return Counter(re.findall(r"\d+(?:\.\d+)?", text))


def english_left(text: str) -> list:
    """English word runs in ``text``, leaving out code a learner types (`...`, 'quoted', names.with_dots_or_())."""
    text = re.sub(r"`[^`]*`|'[^']*'|\"[^\"]*\"|\b\w+[._(]\S*", " ", text)
    return ENGLISH_RUN.findall(text.replace("PyTorch, TensorFlow", ""))


def both(make):
    """``(English, Korean)`` of what ``make()`` returns."""
    set_language("en")
    en = make()
    set_language("ko")
    ko = make()
    set_language(None)
    return en, ko


def raised(call, kind):
    """A function returning ``(type, message)`` of what ``call()`` raises (it must raise ``kind``), for :func:`both`."""
    def message():
        with pytest.raises(kind) as info:
            call()
        return type(info.value), str(info.value)
    return message


def assert_korean(en: str, ko: str):
    assert HANGUL.search(ko), ko
    assert not english_left(ko), (english_left(ko), ko)
    assert not HANGUL.search(en), en
    assert numbers(ko) == numbers(en), (en, ko)


# ---- the catalogs ---------------------------------------------------------------------------------
@pytest.mark.parametrize("name", PARTS)
def test_the_catalog_holds_exactly_the_templates_in_use_all_translated(name):
    po = polib.pofile(str(language.CATALOG_DIR / "ko" / name))
    assert name in catalog.LITERAL_SOURCES
    used = set(catalog.domain_templates(name))
    assert len(used) > 50
    assert {e.msgid for e in po if not e.obsolete} == used
    assert not po.obsolete_entries() and not po.fuzzy_entries() and not po.untranslated_entries()


def test_every_file_of_these_parts_has_its_templates_in_a_catalog():
    for source in ("explore.py", "widgets.py", "viz/core.py", "viz/figure.py", "viz/grid.py", "layers/sizes.py",
                   "layers/checks.py", "commands/doctor.py"):
        assert catalog.templates_in(ROOT / "cnnbook" / source), source
    assert not catalog.unassigned()


def glossary():
    rows = []
    for line in (ROOT / "notebooks" / "ko" / "glossary.md").read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[0] not in ("English", "---"):
            rows.append((cells[0], cells[1], [a.strip() for a in cells[3].split(",") if a.strip()]))
    return rows


@pytest.mark.parametrize("name", PARTS)
def test_the_korean_uses_the_glossary_terms_and_no_particle_pairs(name):
    entries = [e for e in polib.pofile(str(language.CATALOG_DIR / "ko" / name)) if not e.obsolete]
    rows = glossary()
    assert rows
    avoided = [(e.msgid, avoid) for e in entries for _, _, avoids in rows for avoid in avoids if avoid in e.msgstr]
    assert not avoided
    # a particle pair such as 이(가) or 을(를) is what a program writes, not a person: choose or reword
    assert not [e.msgstr for e in entries if re.search(r"\((이|가|을|를|은|는|으|과|와)\)", e.msgstr)]
    # the glossary's term where the English has one
    terms = {"stride": "스트라이드", "padding": "패딩", "receptive field": "수용장", "kernel": "커널",
             "activation map": "활성화 맵", "epoch": "에포크", "dilation": "팽창", "jump": "누적 스트라이드"}
    for e in entries:
        for en, ko in terms.items():
            if re.search(rf"\b{en}\b", e.msgid) and not re.search(rf"\b{en}[=_]|_{en}\b|\b{en} of layer", e.msgid):
                kept_code_name = re.search(rf"(?<![A-Za-z]){en}(?![A-Za-z])", e.msgstr)  # e.g. `kernel` the argument
                assert ko in e.msgstr or kept_code_name, (en, e.msgid, e.msgstr)


# ---- the explorers -------------------------------------------------------------------------------
@pytest.mark.parametrize("setting", [(8, 3, 2, 0), (7, 3, 1, 1), (4, 7, 1, 0), (9, 3, 2, 0, 2)])
def test_the_output_size_report_speaks_korean_with_the_same_numbers(setting):
    en, ko = both(lambda: explore.output_size_report(*setting))
    assert_korean(en.message, ko.message)
    assert numbers(ko.formula) == numbers(en.formula)
    assert (en.output_size, en.fits, en.suggestions) == (ko.output_size, ko.fits, ko.suggestions)


def test_the_explorers_english_states_the_numbers_it_computes():
    """The English sentences carry the numbers of what was computed, however they are worded (tests/test_explore.py
    checks what each says)."""
    set_language("en")
    r = explore.output_size_report(8, 3, 2, 0)
    assert r.formula.startswith("(W - K + 2P) / S + 1 = (8 - 3 + 2*0) / 2 + 1 = 5/2 + 1 = 3.50")
    (padding, stride, size), = r.suggestions
    stated = [r.numerator, r.stride, r.output_size, r.dropped, r.dropped_input, padding, stride, size]
    assert numbers(r.message) == numbers(" ".join(map(str, stated))) and not HANGUL.search(r.message), r.message
    for kernel, total in ((explore.KERNELS["blur"], 1), ([[0, 0, 0], [0, 2, 0], [0, 0, 0]], 2)):
        assert f"sum to {total}" in explore.explain_kernel(kernel)
    _, info = explore.pool_map(np.zeros((7, 7)), 2)
    stated = [*[info["kernel_size"]] * 2, info["stride"], *info["input_shape"], *info["output_shape"],
              f"{info['reduction']:.1f}", *info["dropped"]]
    assert numbers(info["text"]) == numbers(" ".join(map(str, stated))), info["text"]


def test_the_kernel_and_pooling_sentences_speak_korean():
    for kernel in (*explore.KERNELS.values(), [[0, 0, 0], [0, 2, 0], [0, 0, 0]]):
        assert_korean(*both(partial(explore.explain_kernel, kernel)))
    en, ko = both(lambda: explore.pool_map(np.zeros((7, 7)), 2, mode="avg")[1])
    assert_korean(en["text"], ko["text"])
    assert "평균 풀링" in ko["text"] and ko["mode"] == en["mode"] == "avg"  # the report's values stay the code's


@pytest.mark.parametrize("call", [
    lambda: explore.output_size_report(7, 3, 0),
    lambda: explore.output_size_report(7.0, 3),
    lambda: explore.output_size_report(20_000, 3),
    lambda: explore.parse_kernel("1 2\n3"),
    lambda: explore.parse_kernel("1 x; 1 2"),
    lambda: explore.parse_layers("3 by 1"),
    lambda: explore.output_length(4, [(3, 1), (3, 1)]),
    lambda: explore.pool_map(np.zeros((3, 3)), 4),
    lambda: explore.pool_map(np.zeros((4, 4)), 2, mode="median"),
    lambda: explore.kernel_taps(explore.output_size_report(5, 3), 9),
], ids=["stride0", "float", "limit", "square", "number", "layers", "fit", "window", "mode", "position"])
def test_an_error_a_learner_triggers_from_an_explorer_speaks_korean(call):
    def message():
        with pytest.raises((TypeError, ValueError)) as info:
            call()
        return type(info.value), str(info.value)
    (en_type, en), (ko_type, ko) = both(message)
    assert en_type is ko_type
    assert_korean(en, ko)


# ---- the widgets ---------------------------------------------------------------------------------
def labels_of(box) -> list:
    """Every description, button label and option label a learner reads in an explorer."""
    import ipywidgets as W
    found, stack = [], [box]
    while stack:
        w = stack.pop()
        stack.extend(getattr(w, "children", ()))
        if getattr(w, "description", ""):
            found.append(w.description)
        if isinstance(w, (W.Dropdown, W.ToggleButtons)):
            found.extend(w._options_labels)
    return found


def explorers():
    from cnnbook import widgets
    rng = np.random.default_rng(0)
    return {"hello": widgets.hello_widget(), "output size": widgets.output_size_explorer(8, 3, 2, 0),
            "kernel": widgets.kernel_explorer(rng.random((12, 12))),
            "receptive field": widgets.receptive_field_explorer("3,1 2,2", input_size=12),
            "pooling": widgets.pooling_explorer(rng.random((7, 7)), 2, 2)}


def plain(html_text: str) -> str:
    return re.sub(r"<[^>]+>", " ", html_text).replace("&#x27;", "'")


def test_the_widgets_speak_korean_and_keep_their_values():
    pytest.importorskip("ipywidgets")
    pytest.importorskip("matplotlib")
    en, ko = both(explorers)
    for name in en:
        en_labels, ko_labels = labels_of(en[name]), labels_of(ko[name])
        assert len(en_labels) == len(ko_labels) and en_labels, name
        for e, k in zip(en_labels, ko_labels):
            if re.search("[A-Za-z]{3,}", e.split()[0]):  # "W", "max" and the like are symbols or values
                assert HANGUL.search(k), (name, e, k)
        assert_korean(plain(en[name].result.value), plain(ko[name].result.value))
    # the dropdown and toggle show translated labels for the same values
    for box in (en, ko):
        preset = box["kernel"].controls["preset"]
        assert [value for _, value in preset.options] == list(explore.KERNELS)
        assert preset.value == "vertical edge"
        assert [value for _, value in box["pooling"].controls["mode"].options] == ["max", "avg"]
    assert [label for label, _ in en["kernel"].controls["preset"].options] == list(explore.KERNELS)
    assert [label for label, _ in ko["kernel"].controls["preset"].options] == \
        ["항등", "수직 에지", "수평 에지", "블러", "샤프닝"]
    assert ko["kernel"].controls["preset"].label == "수직 에지"
    # today's English labels, which the English notebooks' prose names
    assert {"preset", "kernel", "add layer", "remove last", "input size (pixels)", "use the first suggestion",
            "pooling", "window", "stride"} <= {label for box in en.values() for label in labels_of(box)}


def test_a_korean_dropdown_choice_sets_the_kernel_by_its_key():
    pytest.importorskip("ipywidgets")
    from cnnbook import widgets
    set_language("ko")
    box = widgets.kernel_explorer(np.random.default_rng(0).random((10, 10)))
    preset = box.controls["preset"]
    preset.label = "블러"
    assert preset.value == "blur"
    assert box.controls["kernel"].value == explore.kernel_text(explore.KERNELS["blur"])
    assert "가중치 합 1" in box.result.value


def test_the_output_size_drawing_speaks_korean():
    from cnnbook.viz import draw_output_grid
    en, ko = both(lambda: draw_output_grid(explore.output_size_report(8, 3, 2, 0), 0))
    texts = lambda svg: [plain(t) for t in re.findall(r"<text[^>]*>(.*?)</text>", svg)]  # noqa: E731
    assert len(texts(en)) == len(texts(ko))
    for e, k in zip(texts(en), texts(ko)):
        if not e.startswith("(W - K"):  # the formula is the same in both
            assert_korean(e, k)
    assert en.count("<rect") == ko.count("<rect")
    assert float(re.search(r'width="(\d+)"', ko)[1]) >= float(re.search(r'width="(\d+)"', en)[1]) * 0.9


# ---- the figures ---------------------------------------------------------------------------------
def figure_texts(fig) -> list:
    from matplotlib.text import Text
    found = [t.get_text() for t in fig.findobj(Text) if t.get_text().strip() and t.get_visible()]
    return [t for t in found if re.search("[A-Za-z\uac00-\ud7a3]", t)]  # words, not tick numbers


def figures():
    import matplotlib
    matplotlib.use("Agg")
    from cnnbook import viz
    from cnnbook.train import History
    from cnnbook.viz import training
    rng = np.random.default_rng(0)
    history = History()
    history.loss = [2.3, 2.0, 1.7, 1.5]
    history.epoch_loss = [2.1, 1.6]
    history.train_acc, history.val_acc = [0.4, 0.6], [0.38, 0.55]
    made = {"images": viz.show_images(rng.random((2, 1, 8, 8))),
            "maps": viz.show_activation_maps(rng.random((2, 6, 6))),
            "filters": viz.show_filters(rng.standard_normal((2, 1, 3, 3))),
            "receptive field": viz.draw_receptive_field([(3, 1), (2, 2)], input_size=10),
            "growth": viz.plot_receptive_field_growth({"3x3": [(3, 1)] * 3}),
            "pooling": viz.draw_pooling(rng.random((6, 6)), 2),
            "history": training.plot_history(history),
            "confusion": training.plot_confusion_matrix(np.array([[3, 1], [0, 4]]), ["a", "b"])}
    texts = {name: figure_texts(fig) for name, fig in made.items()}
    import matplotlib.pyplot as plt
    for fig in made.values():
        plt.close(fig)
    return texts


def test_the_figures_own_text_speaks_korean():
    pytest.importorskip("matplotlib")
    en, ko = both(figures)
    for name in en:
        assert len(en[name]) == len(ko[name]) and en[name], name
        for e, k in zip(en[name], ko[name]):
            if e in ("a", "b", "3x3") or re.fullmatch(r"\(.*\)", e):  # names the caller passed, shapes
                assert k == e
                continue
            assert_korean(e, k)


def test_the_figures_english_is_unchanged():
    pytest.importorskip("matplotlib")
    set_language("en")
    texts = figures()
    assert {"column (pixels)", "row (pixels)", "activation (a.u.)"} <= set(texts["maps"])
    assert {"input column (pixels)", "input row (pixels)", "layer 1: 3x3 px",
            "receptive field of unit (2, 2) of layer 2:\n4x4 pixels"} <= set(texts["receptive field"])
    assert {"training history", "training loss", "epoch mean", "accuracy (fraction correct)"} <= set(texts["history"])
    assert {"confusion matrix", "predicted class", "true class", "test images"} <= set(texts["confusion"])
    assert "input (6, 6), red ring = max of its window" in texts["pooling"]


def test_the_missing_hangul_font_warning_is_korean_in_the_korean_edition(monkeypatch):
    pytest.importorskip("matplotlib")
    from cnnbook.viz import figure
    monkeypatch.setattr(figure, "hangul_font", lambda installed=None: None)
    set_language("ko")
    with pytest.warns(UserWarning) as caught:
        figure.add_hangul_fallback({"font.family": ["DejaVu Sans"]})
    assert HANGUL.search(str(caught[0].message)) and "fonts-nanum" in str(caught[0].message)


# ---- the layers' errors --------------------------------------------------------------------------
LAYER_ERRORS = {
    "not whole": (lambda: layers.conv_output_size(8, 3, 2), ValueError,
                  "input: (W - K + 2P) / S + 1 = (8 - 3 + 2*0) / 2 + 1 = 3.5 is not a whole number, so the last window "
                  "would hang off the edge; try stride=1 (gives 6)"),
    "too large": (lambda: layers.conv_output_size(2, 5), ValueError,
                  "input: kernel 5 is larger than the padded input 2 (2 + 2*0 padding): (W - K + 2P) / S + 1 = "
                  "(2 - 5 + 2*0) / 1 + 1 < 1; use a kernel <= 2 or padding=2 (gives 2)"),
    "dilated": (lambda: layers.conv_output_size(4, 3, dilation=3, what="height"), ValueError,
                "height: dilated kernel 7 (3 taps, dilation 3) is larger than the padded height 4 (4 + 2*0 padding): "
                "(H - K_eff + 2P) / S + 1 = (4 - 7 + 2*0) / 1 + 1 < 1; use a kernel <= 4 or padding=2 (gives 2)"),
    "float": (lambda: layers.conv_output_size(8, 3.0), TypeError,
              "kernel_size=3.0 is not a whole number (float); pass a whole number such as kernel_size=3"),
    "fraction": (lambda: layers.conv_output_size(8, 3, stride=1.5), TypeError,
                 "stride=1.5 is not a whole number (float); pass a whole number such as stride=1 or stride=2"),
    "negative": (lambda: layers.conv_output_size(8, 3, padding=-1), ValueError, "padding=-1 must be >= 0"),
    "not a sequence": (lambda: layers.receptive_field(3), TypeError,
                       "layers must be a sequence of (kernel_size, stride) pairs, got int"),
    "not a pair": (lambda: layers.receptive_field([(3, 1), 3]), ValueError,
                   "layers[1] must be a (kernel_size, stride) pair or a (kernel_size, stride, dilation) triple, got 3"),
    "shape": (lambda: layers.conv2d_forward(np.zeros((2, 3, 4)), np.zeros((1, 3, 3, 3)), np.zeros(1)), ValueError,
              "x must be 4-D with shape (N, C, H, W), got shape (2, 3, 4) (3-D)"),
    "dtype": (lambda: layers.relu_forward(np.zeros((2, 3), dtype=int)), TypeError,
              "x has dtype int64; the layers need floating-point arrays, e.g. x.astype('float32') (or 'float64' for "
              "gradient checks)"),
    "list": (lambda: layers.linear_forward(np.zeros(3), np.zeros((3, 2)), np.zeros(2)), ValueError,
             "x must be at least 2-D with shape (N, D) or (N, ...), got shape (3,) (1-D)"),
    "dtypes": (lambda: layers.linear_forward(np.zeros((2, 3)), np.zeros((3, 2), np.float32), np.zeros(2)), TypeError,
               "arrays of different dtypes (x is float64, w is float32, b is float64); layers keep the dtype they are "
               "given, so convert to one first, e.g. w.astype(x.dtype)"),
    "pool pair": (lambda: layers.max_pool2d_forward(np.zeros((1, 1, 4, 4)), (2, 0)), ValueError,
                  "kernel_size[1]=0 must be >= 1"),
    "dout": (lambda: layers.relu_backward(np.zeros((2, 2)), layers.relu_forward(np.zeros((2, 3)))[1]), ValueError,
             "dout has shape (2, 2) but relu_forward's output had shape (2, 3); pass the upstream gradient of that "
             "output, with the same cache"),
    "dout dims": (lambda: layers.relu_backward(np.zeros(6), layers.relu_forward(np.zeros((2, 3)))[1]), ValueError,
                  "dout must be 2-D with shape (2, 3) (the shape of relu_forward's output), got shape (6,) (1-D)"),
    "cache": (lambda: layers.conv2d_backward(np.zeros((1, 1, 2, 2)), None), TypeError, None),
}


@pytest.mark.parametrize("case", sorted(LAYER_ERRORS))
def test_a_layer_error_is_korean_with_the_same_type_and_numbers_and_english_is_unchanged(case):
    call, kind, english = LAYER_ERRORS[case]

    def message():
        with pytest.raises(kind) as info:
            call()
        return str(info.value)
    en, ko = both(message)
    if english is not None:
        assert en == english
    assert_korean(en, ko)


def test_the_layers_look_no_message_up_when_nothing_is_wrong(monkeypatch):
    """The checks translate only on failure: the hot path never pays for the language lookup."""
    from cnnbook.layers import checks, sizes

    def refuse(*args, **kwargs):
        raise AssertionError("tr called on the good path")
    monkeypatch.setattr(checks, "tr", refuse)
    monkeypatch.setattr(sizes, "tr", refuse)
    rng = np.random.default_rng(0)
    x, w, b = rng.random((2, 3, 6, 6)), rng.random((4, 3, 3, 3)), rng.random(4)
    out, cache = layers.conv2d_forward(x, w, b, stride=1, padding=1)
    layers.conv2d_backward(np.ones_like(out), cache)
    pooled, pool_cache = layers.max_pool2d_forward(x, (2, 2))
    layers.max_pool2d_backward(np.ones_like(pooled), pool_cache)
    y, relu_cache = layers.relu_forward(x)
    layers.relu_backward(y, relu_cache)
    assert layers.conv_output_size(32, 3, 1, 1) == 32 and layers.receptive_field([(3, 1), (3, 2)]) == 5


# ---- doctor --------------------------------------------------------------------------------------
def doctor_output(lang, capsys):
    from cnnbook.commands import doctor
    status = doctor.run(argparse.Namespace(lang=lang))
    return status, capsys.readouterr().out


def test_doctor_speaks_the_language_it_is_given_and_restores_the_automatic_choice(capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    en_status, en = doctor_output("en", capsys)
    ko_status, ko = doctor_output("ko", capsys)
    assert en_status == ko_status == 0
    assert language.get_language() == "en"  # --lang lasts for the command only
    assert "All good: open the workbook with `python -m cnnbook lab`." in en and not HANGUL.search(en)
    assert "모두 좋습니다" in ko and "사용 중인 백엔드: numpy" in ko and "설치됨" in ko
    en_lines, ko_lines = en.splitlines(), ko.splitlines()
    assert len(en_lines) == len(ko_lines)
    for e, k in zip(en_lines, ko_lines):
        if e.startswith("GPU:"):  # the backend's reason stays as the backend says it
            assert k.startswith("GPU: ") and HANGUL.search(k)
            continue
        if re.search("[A-Za-z]{3,} [A-Za-z]{3,}", re.sub(r"`[^`]*`|\S*/\S*", "", e)):
            assert HANGUL.search(k), (e, k)
        assert numbers(k) == numbers(e), (e, k)


def test_doctor_follows_the_korean_edition_without_lang(capsys, monkeypatch, tmp_path):
    (tmp_path / "ko").mkdir()
    monkeypatch.chdir(tmp_path / "ko")
    _, out = doctor_output(None, capsys)
    assert "사용 중인 백엔드" in out


def test_doctor_refuses_an_unknown_language():
    from cnnbook.commands import doctor
    parser = argparse.ArgumentParser()
    doctor.add_arguments(parser)
    assert parser.parse_args(["--lang", "ko"]).lang == "ko"
    assert parser.parse_args([]).lang is None
    with pytest.raises(SystemExit):
        parser.parse_args(["--lang", "fr"])
