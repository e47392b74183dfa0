"""One language setting: the exercise checks speak Korean in the Korean edition, with the same logic and numbers.

* every ``tr``/``N_`` template in the package has a Korean translation with the same fields, and
  ``exercises.po`` holds no template the code no longer uses;
* ``set_language``, ``$CNNBOOK_LANG`` and the edition's folder choose the language, in that order;
* a plausible wrong answer gets its hint in Korean under ``ko`` (Hangul, the same numbers) and today's
  English under ``en``, for at least one check of every exercise module;
* ``python -m cnnbook translations catalog`` adds missing templates, retires unused ones and leaves
  the claims ledger's catalog alone.
"""
import argparse
import ast
import re
import shutil
import string
from collections import Counter
from pathlib import Path

import numpy as np
import polib
import pytest

from cnnbook import exercises, layers, nn
from cnnbook.commands import translations as translations_command
from cnnbook.course import catalog, language
from cnnbook.course import exercises as exercise_checks
from cnnbook.course.exercises import ExerciseError
from cnnbook.course.language import get_language, set_language

EXERCISES_PO = language.CATALOG_DIR / "ko" / "exercises.po"
EXERCISES_DIR = Path(exercise_checks.__file__).resolve().parent
TEMPLATES = sorted({t.text for t in catalog.templates()})
HANGUL = re.compile("[\uac00-\ud7a3]")


@pytest.fixture(autouse=True)
def automatic_language(monkeypatch):
    """Every test starts from the automatic choice, with no $CNNBOOK_LANG, and leaves it so."""
    monkeypatch.delenv(language.ENV, raising=False)
    set_language(None)
    yield
    set_language(None)


def fields_and_specs(template: str) -> Counter:
    """``{(name, conversion, format spec): count}`` of a template's replacement fields."""
    return Counter((name, conversion, spec) for _, name, spec, conversion in string.Formatter().parse(template)
                   if name is not None)


# ---- the catalogs ---------------------------------------------------------------------------------
def test_the_package_has_the_exercise_templates():
    assert len(TEMPLATES) > 300
    assert "correct: {name} passed {count} hidden test cases ({cases})" in TEMPLATES


@pytest.mark.parametrize("template", TEMPLATES)
def test_every_template_has_korean_with_the_same_fields(template):
    korean = language.catalog("ko").get(template)
    assert korean, f"no Korean for {template!r}"
    assert fields_and_specs(korean) == fields_and_specs(template), f"{template!r} -> {korean!r}"
    assert HANGUL.search(korean) or not re.search("[A-Za-z]{3,}", template.replace("{", " ")), korean


def test_exercises_po_holds_exactly_the_templates_in_use():
    po = polib.pofile(str(EXERCISES_PO))
    used = set(catalog.domain_templates("exercises.po"))
    assert not [e.msgid for e in po.obsolete_entries()], "obsolete entries: delete them"
    assert not [e.msgid for e in po.fuzzy_entries()]
    assert {e.msgid for e in po if not e.obsolete} == used


def test_the_korean_follows_the_glossary():
    rows = []
    for line in (Path(__file__).resolve().parents[1] / "notebooks" / "ko" / "glossary.md").read_text(
            encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[0] not in ("English", "---"):
            rows.append((cells[0], cells[1], [a.strip() for a in cells[3].split(",") if a.strip()]))
    assert rows
    clashes = [(en, avoid, e.msgstr) for e in polib.pofile(str(EXERCISES_PO)) for en, _, avoids in rows
               for avoid in avoids if avoid in e.msgstr]
    assert not clashes


def test_the_checks_write_their_messages_through_tr():
    """No raw English in an ExerciseError or TypeError of the checks: each takes tr(...) or a translated value."""
    raw = []
    for path in sorted(EXERCISES_DIR.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id in ("ExerciseError", "TypeError") and node.args
                    and isinstance(node.args[0], (ast.Constant, ast.JoinedStr, ast.BinOp))):
                raw.append(f"{path.name}:{node.lineno}")
    assert not raw


def test_catalog_update_finds_the_committed_catalog_in_step():
    counts = {c.name: c for c in catalog.update("ko", write=False)}
    ex = counts["exercises.po"]
    assert (ex.untranslated, ex.obsolete, ex.added, ex.retired) == (0, 0, 0, 0)
    assert ex.messages == len(catalog.domain_templates("exercises.po"))
    if "claims.po" in counts and "claims.po" not in catalog.TEMPLATE_FUNCTIONS:
        assert not counts["claims.po"].managed


def test_the_catalog_command_adds_missing_and_retires_unused_templates(tmp_path, monkeypatch, capsys):
    folder = tmp_path / "ko"
    shutil.copytree(language.CATALOG_DIR / "ko", folder)
    po = polib.pofile(str(folder / "exercises.po"))
    dropped = next(e for e in po if e.msgid == "the receptive field")
    po.remove(dropped)
    po.append(polib.POEntry(msgid="a message no check uses any more", msgstr="더 이상 쓰지 않는 메시지"))
    po.save(str(folder / "exercises.po"))
    claims_before = (folder / "claims.po").read_bytes() if (folder / "claims.po").exists() else None
    monkeypatch.setattr(catalog, "CATALOG_DIR", tmp_path)

    args = argparse.Namespace(action="catalog", lang="ko", name=None, file=None, pending=False)
    assert translations_command.run(args) == 0
    out = capsys.readouterr().out
    total = len(catalog.domain_templates("exercises.po"))
    assert f"exercises.po: {total} messages, 1 untranslated, 1 obsolete (1 added, 1 newly obsolete)" in out
    after = polib.pofile(str(folder / "exercises.po"))
    assert [e.msgid for e in after.untranslated_entries()] == ["the receptive field"]
    assert [e.msgid for e in after.obsolete_entries()] == ["a message no check uses any more"]
    if claims_before is not None and "claims.po" not in catalog.TEMPLATE_FUNCTIONS:
        assert (folder / "claims.po").read_bytes() == claims_before

    assert translations_command.run(args) == 0  # a second run changes nothing more
    assert f"exercises.po: {total} messages, 1 untranslated, 1 obsolete\n" in capsys.readouterr().out


def test_templates_join_adjacent_literals_and_skip_other_calls(tmp_path):
    source = tmp_path / "pkg" / "m.py"
    source.parent.mkdir()
    source.write_text('x = tr("one {a} "\n       "two", a=1)\ny = N_("later")\nz = tr(variable)\nw = str("no")\n',
                      encoding="utf-8")
    assert [(t.text, t.line) for t in catalog.templates_in(source, root=tmp_path)] == [("one {a} two", 1),
                                                                                      ("later", 3)]


# ---- which language ------------------------------------------------------------------------------
def test_set_language_refuses_an_unknown_language_naming_the_choices():
    with pytest.raises(ValueError, match=r"'fr'.*'en', 'ko'"):
        set_language("fr")
    assert get_language() in language.LANGUAGES


def test_the_environment_variable_chooses_unless_set_language_was_called(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    assert get_language() == "en"
    monkeypatch.setenv(language.ENV, "ko")
    assert get_language() == "ko"
    set_language("en")
    assert get_language() == "en"
    set_language(None)
    assert get_language() == "ko"
    monkeypatch.setenv(language.ENV, "fr")
    with pytest.raises(ValueError, match=r"\$CNNBOOK_LANG='fr'.*'en', 'ko'"):
        get_language()


def test_a_folder_named_ko_or_marked_ko_is_the_korean_edition(monkeypatch, tmp_path):
    (tmp_path / "ko").mkdir()
    marked, plain = tmp_path / "my-copy", tmp_path / "en-copy"
    marked.mkdir()
    plain.mkdir()
    (marked / language.MARKER).write_text("ko\n", encoding="utf-8")
    for folder, lang in [(tmp_path / "ko", "ko"), (marked, "ko"), (plain, "en")]:
        monkeypatch.chdir(folder)
        assert get_language() == lang, folder
    monkeypatch.chdir(tmp_path / "ko")
    monkeypatch.setenv(language.ENV, "en")  # the environment wins over the folder
    assert get_language() == "en"


# ---- the checks in both languages ----------------------------------------------------------------
def numbers(text: str) -> Counter:
    return Counter(re.findall(r"\d+(?:\.\d+)?", text))


def softmax_sum(scores, y):
    loss, dscores = layers.softmax_cross_entropy(scores, y)
    return float(loss) * scores.shape[0], dscores


def conv_without_padding(x, w, b, stride=1, padding=0):
    return layers.conv2d_forward(x, w, b, stride=stride, padding=0)[0]


def dilation_ignored(stack):
    return layers.receptive_field([(k, s) for k, s, _ in stack])


def no_padding_size(input_size, kernel_size, stride=1, padding=0):
    return (input_size - kernel_size) // stride + 1


def shift_error_always_zero(feature_fn, x, k):
    return 0.0


# (module, check, wrong answer, what today's English says)
WRONG = {
    "basics": (exercises.check_softmax_loss, softmax_sum,
               ": this is the sum over the batch; the loss is the mean (divide by N)"),
    "conv": (exercises.check_conv_forward_naive, conv_without_padding,
             "is the padding applied? Pad x with 1 zero(s) on every side of H and W (xp.pad) before sliding the "
             "filter"),
    "deeper": (exercises.check_dilated_receptive_field, dilation_ignored,
               "returned 3, expected 5: the dilations are missing"),
    "models": (exercises.check_conv_param_count, lambda C, F, K: F * C * K * K,
               "conv_param_count(3, 96, 11) returned 34848, expected 34944: the biases are missing"),
    "pooling": (exercises.check_equivariance, shift_error_always_zero,
                "with feature_fn = adding the column index (not equivariant) returned 0, expected 3: your function "
                "says 0 for a feature that is not shift-equivariant"),
    "predict": (exercises.check_shift_drop_prediction, 30,
                "predicted_drop = 30 is outside [0, 1]: it is a fraction of the centred accuracy (0 = nothing lost, "
                "1 = all of it); did you mean 0.3 (30 %)?"),
    "frameworks": (exercises.check_port_to_torch, lambda model: [],
                   "returned a list; return a torch.nn.Sequential of the ported layers"),
    "sizes": (exercises.check_conv_output_size, no_padding_size,
              "conv_output_size(32, 3, padding=1) returned 30, expected 32: is the padding counted? "
              "It adds 2P: (W - K + 2P) / S + 1"),
}


def message_of(check, answer, lang: str) -> str:
    set_language(lang)
    with pytest.raises(ExerciseError) as info:
        if check is exercises.check_shift_drop_prediction:
            check(answer, 0.05)
        else:
            check(answer)
    return str(info.value)


def test_every_exercise_module_has_a_wrong_answer_here():
    modules = {p.stem for p in EXERCISES_DIR.glob("*.py") if not p.stem.startswith("_")}
    assert modules - {"references"} == set(WRONG)  # references holds the answers the checks compare with


@pytest.mark.parametrize("module", sorted(WRONG))
def test_a_wrong_answer_gets_the_same_hint_in_korean_and_in_english(module):
    check, answer, english = WRONG[module]
    en = message_of(check, answer, "en")
    ko = message_of(check, answer, "ko")
    assert english in en
    assert not HANGUL.search(en)
    assert HANGUL.search(ko), ko
    assert numbers(ko) == numbers(en), (en, ko)


def _shift_left_error(feature_fn, x, k):
    def left(a):
        out = a * 0
        out[..., :a.shape[-1] - k] = a[..., k:]
        return out
    a, b = feature_fn(left(x)), left(feature_fn(x))
    return float(abs(a - b)[..., k:a.shape[-1] - k].max())


def _legacy_kfold(num_samples, k, seed=0):
    parts = np.array_split(np.random.RandomState(seed).permutation(num_samples), k)
    return [(np.concatenate(parts[:i] + parts[i + 1:]), parts[i]) for i in range(k)]


# Wrong answers that break a rule the instructions state (issue 31), each with its English hint.
RULES = {
    "dtype": (exercises.check_relu_backward, lambda dout, x: (dout * (x > 0)).astype("float16"),
              "dx has dtype float16, expected float64"),
    "no ReLU": (exercises.check_architecture, lambda: nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.MaxPool2d(2), nn.Conv2d(8, 16, 3, padding=1), nn.MaxPool2d(2)),
        "the model has 0 ReLU"),
    "average pooling": (exercises.check_architecture, lambda: nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.AvgPool2d(2), nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(),
        nn.AvgPool2d(2)), "the model pools with AvgPool2d"),
    "floors": (exercises.check_conv_output_size, lambda W, K, stride=1, padding=0: (W - K + 2 * padding) // stride + 1,
               "returned 13, but (W - K + 2P) / S + 1 = (28 - 3 + 0) / 2 + 1 = 13.5 is not a whole number"),
    "shift left": (exercises.check_equivariance, _shift_left_error, "x is shifted to the left"),
    "patchify misfit": (exercises.check_patchify, lambda x, P: x[:, :, :x.shape[2] // P * P, :x.shape[3] // P * P]
                        .reshape(x.shape[0], x.shape[1], x.shape[2] // P, P, x.shape[3] // P, P)
                        .transpose(0, 2, 4, 1, 3, 5).reshape(x.shape[0], -1, x.shape[1] * P * P),
                        "4x4 patches do not tile a width of 10"),
    "kfold generator": (exercises.check_cross_validation, _legacy_kfold,
                        "not with the shuffle the instructions ask for"),
}


@pytest.mark.parametrize("rule", sorted(RULES))
def test_a_broken_rule_is_named_in_korean_too(rule):
    check, answer, english = RULES[rule]
    en = message_of(check, answer, "en")
    ko = message_of(check, answer, "ko")
    assert english in en
    assert HANGUL.search(ko) and "이(가)" not in ko, ko
    assert numbers(ko) == numbers(en), (en, ko)


def test_the_success_line_and_a_printed_report_speak_the_language(capsys):
    def relu_backward(dout, x):
        return dout * (x > 0)
    set_language("en")
    assert exercises.check_relu_backward(relu_backward)
    assert exercises.check_shift_drop_prediction(0.5, 0.04)
    en = capsys.readouterr().out
    # what each line says, not its wording (tests/test_exercises.py checks the success line's form)
    assert not re.search("[\uac00-\ud7a3]", en), en
    for fact in ("relu_backward", " 5 ", "(4, 5)", "(2, 3, 4, 4)", "(7,)", "0.5", "0.04", "0.46", "0.05"):
        assert fact in en, (fact, en)
    set_language("ko")
    assert exercises.check_relu_backward(relu_backward)
    assert exercises.check_shift_drop_prediction(0.5, 0.04)
    ko = capsys.readouterr().out
    assert "정답입니다" in ko and "이미지 배치 (2, 3, 4, 4)" in ko and "너무 높음" in ko and "이유: " in ko
    assert numbers(ko) == numbers(en)


def test_misuse_is_explained_in_the_language_too():
    set_language("en")
    with pytest.raises(TypeError, match="check_sgd_step takes your function sgd_step"):
        exercises.check_sgd_step(3)
    set_language("ko")
    with pytest.raises(TypeError) as info:
        exercises.check_sgd_step(3)
    assert HANGUL.search(str(info.value)) and "check_sgd_step(sgd_step)" in str(info.value)
    with pytest.raises(ValueError, match="shift"):
        exercises.check_prediction("shift", 0.1, 0.1)


def test_the_korean_edition_folder_alone_makes_the_checks_korean(monkeypatch, tmp_path):
    (tmp_path / "ko").mkdir()
    monkeypatch.chdir(tmp_path / "ko")
    with pytest.raises(ExerciseError) as info:
        exercises.check_conv_output_size(no_padding_size)
    assert "패딩을 셌습니까?" in str(info.value)


def test_a_template_without_translation_comes_back_in_english():
    set_language("ko")
    assert language.tr("no such template {n}", n=np.int64(3)) == "no such template 3"
