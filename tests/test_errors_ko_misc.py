"""The workbook's own errors and lines speak Korean in the Korean edition: gradient checks, saving and loading a
model, the learner's working copy, the solutions and ``lab``'s lines (``workbook.po``), with the same type and
numbers as the English, which is unchanged."""
import argparse
import ast
import re
from pathlib import Path

import numpy as np
import polib
import pytest
from test_language_edges import (
    HANGUL,
    assert_korean,
    automatic_language,  # noqa: F401 (autouse: each test starts in the automatic language)
    both,
    glossary,
)

from cnnbook import gradcheck, serialize
from cnnbook.commands import lab
from cnnbook.course import catalog, language, learner, solutions
from cnnbook.models import reference_cnn

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("gradcheck.py", "serialize.py", "course/learner.py", "course/solutions.py", "commands/lab.py")


def test_the_catalog_holds_exactly_the_templates_of_these_files_all_translated():
    assert catalog.LITERAL_SOURCES["workbook.po"] == SOURCES
    po = polib.pofile(str(language.CATALOG_DIR / "ko" / "workbook.po"))
    used = set(catalog.domain_templates("workbook.po"))
    assert len(used) >= 40
    assert {e.msgid for e in po if not e.obsolete} == used
    assert not po.obsolete_entries() and not po.fuzzy_entries() and not po.untranslated_entries()
    avoided = [(e.msgid, a) for e in po for _, _, avoids in glossary() for a in avoids if a in e.msgstr]
    assert not avoided
    assert all(language.fields(e.msgid) == language.fields(e.msgstr) for e in po)


def raw_messages(path: Path) -> list[int]:
    """Lines of ``path`` that raise or print a bare string or f-string (not through ``tr``)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
            args = node.exc.args
        elif isinstance(node, ast.Call) and getattr(node.func, "id", None) == "print":
            args = node.args
        else:
            continue
        if any(isinstance(a, ast.JoinedStr) or (isinstance(a, ast.Constant) and isinstance(a.value, str)
                                               and any(c.isalpha() for c in a.value)) for a in args):
            found.append(node.lineno)
    return found


@pytest.mark.parametrize("source", SOURCES)
def test_no_message_of_these_files_is_bare_english(source):
    assert not raw_messages(ROOT / "cnnbook" / source)


def test_the_scan_finds_a_bare_message(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text('raise ValueError(f"x={x} is wrong")\nprint("done now")\nraise TypeError(tr("fine {x}", x=1))\n')
    assert raw_messages(bad) == [1, 2]


def model_file(tmp_path, contents):
    path = tmp_path / "net.npz"
    contents(path)
    return path


def error_of(call, kind):
    with pytest.raises(kind) as info:
        call()
    return str(info.value)


CASES = {
    "gradcheck dtype": (lambda tmp: gradcheck.eval_numerical_gradient(lambda x: 0.0, np.zeros(3, int)), TypeError,
                        "x must be a floating-point array (float64 for accurate checks), got int64"),
    "gradcheck step": (lambda tmp: gradcheck.eval_numerical_gradient(lambda x: 0.0, np.zeros(3), h=0), ValueError,
                       "step h must be > 0, got 0"),
    "gradcheck df": (lambda tmp: gradcheck.eval_numerical_gradient_array(lambda x: x * 2, np.zeros(3), np.ones(4)),
                     ValueError, "f(x) has shape (3,) but df has shape (4,); df must be the upstream gradient of "
                                 "f's output"),
    "rel_error": (lambda tmp: gradcheck.rel_error(np.zeros(2), np.zeros(3)), ValueError,
                  "rel_error needs arrays of one shape, got (2,) and (3,)"),
    "no file": (lambda tmp: reference_cnn(seed=0).load(tmp / "none.npz"), FileNotFoundError, None),
    "not npz": (lambda tmp: reference_cnn(seed=0).load(model_file(tmp, lambda p: p.write_bytes(b"junk 12"))),
                ValueError, None),
    "one array": (lambda tmp: reference_cnn(seed=0).load(model_file(tmp, lambda p: np.save(open(p, "wb"),
                                                                                           np.zeros(3)))),
                  ValueError, None),
    "names": (lambda tmp: serialize.load_state_dict(reference_cnn(seed=0), {"w": np.zeros(2)}), ValueError, None),
    "shapes": (lambda tmp: serialize.load_state_dict(reference_cnn(seed=0), {
        k: np.zeros(3) for k in reference_cnn(seed=0).state_dict()}), ValueError, None),
    "nan": (lambda tmp: serialize.load_state_dict(reference_cnn(seed=0), {
        k: np.full(v.shape, np.nan) for k, v in reference_cnn(seed=0).state_dict().items()}), ValueError, None),
    "ints": (lambda tmp: serialize.load_state_dict(reference_cnn(seed=0), {
        k: np.zeros(v.shape, int) for k, v in reference_cnn(seed=0).state_dict().items()}), TypeError, None),
    "not a dict": (lambda tmp: serialize.load_state_dict(reference_cnn(seed=0), [1, 2]), TypeError,
                   "state must be a dict {name: array} such as model.state_dict(), got list"),
    "save to folder": (lambda tmp: reference_cnn(seed=0).save(tmp), IsADirectoryError, None),
    "no folder": (lambda tmp: reference_cnn(seed=0).save(tmp / "nowhere" / "net.npz"), FileNotFoundError, None),
    "solution name": (lambda tmp: solutions.find_solution(3), TypeError,
                      "name=3 is a int; pass the exercise's name as a string, e.g. "
                      'show_solution("conv_forward_naive")'),
    "solution typo": (lambda tmp: solutions.find_solution("conv_forward_naiv"), ValueError, None),
    "solution unknown": (lambda tmp: solutions.find_solution("zzz"), ValueError, None),
    "no notebooks": (lambda tmp: learner.prepare_working_copy(tmp / "home", source=tmp / "missing"),
                     FileNotFoundError, None),
    "inside source": (lambda tmp: learner.prepare_working_copy(tmp / "src" / "home", source=(tmp / "src").mkdir()
                                                                or tmp / "src"), ValueError, None),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_an_error_speaks_korean_with_the_same_type_and_numbers(case, tmp_path):
    call, kind, english = CASES[case]
    calls = iter((tmp_path / "en", tmp_path / "ko"))

    def message():
        folder = next(calls)
        folder.mkdir()
        return error_of(lambda: call(folder), kind)
    en, ko = both(message)
    if english is not None:
        assert en == english
    # a library's own words quoted as the cause, "(ValueError: ...)", stay as the library wrote them
    en, ko = (re.sub(r"\(\w+Error: .*\)", "(CAUSE)", text.replace(str(tmp_path / lang), "TMP"))
              for text, lang in ((en, "en"), (ko, "ko")))
    assert_korean(en, ko)


def test_a_damaged_parameter_counts_its_nan_and_infinite_values_in_either_language():
    model = reference_cnn(seed=0)
    state = model.state_dict()
    first = next(iter(state))
    state[first] = state[first].copy()
    state[first].flat[:3] = np.nan
    state[first].flat[3:5] = np.inf

    def message():
        return error_of(lambda: serialize.load_state_dict(model, state), ValueError)
    en, ko = both(message)
    assert "3 NaN and 2 infinite value(s)" in en
    assert "NaN 3개와 무한대 2개" in ko
    assert_korean(en, ko)


def test_lab_speaks_the_language_it_is_given(tmp_path, monkeypatch, capsys):
    source = tmp_path / "notebooks"
    source.mkdir()
    nb = ROOT / "notebooks" / "00-start-here.ipynb"
    (source / nb.name).write_bytes(nb.read_bytes())
    monkeypatch.setattr(lab, "lab_command", lambda extra, folder=None: ["python", "-m", "jupyterlab", str(folder)])
    started = []

    def execv(program, argv):  # instead of becoming JupyterLab
        started.append(argv)
        raise SystemExit(0)
    monkeypatch.setattr(lab.os, "execv", execv)
    monkeypatch.setattr(lab, "_has_jupyterlab", lambda: True)
    monkeypatch.setattr(learner, "default_source", lambda lang: source)
    monkeypatch.setenv("CNNBOOK_LANG", "en")  # lab sets it for JupyterLab's kernels; put back after the test
    outputs = {}
    for lang in ("en", "ko"):
        args = argparse.Namespace(lang=lang, solutions=False, home=str(tmp_path / f"home-{lang}"), jupyter_args=[])
        with pytest.raises(SystemExit):
            lab.run(args)
        outputs[lang] = capsys.readouterr().out
    en, ko = outputs["en"], outputs["ko"]
    assert "your working copy" in en and re.search(r"\b\d+ added", en) and "starting:" in en
    assert "내 작업 사본" in ko and re.search(r"\d+개 추가", ko) and "시작합니다:" in ko
    assert len(started) == 2 and language._chosen is None  # back to the automatic choice
    korean_lines = [line for line in outputs["ko"].splitlines() if line.strip()]
    assert korean_lines and all(HANGUL.search(line) for line in korean_lines)
