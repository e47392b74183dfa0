"""One register for everything Korean a learner sees: the notebooks' 합니다체.

The Korean notebooks' prose ends its statements in -ㅂ니다/-습니다 and its requests in -세요. The catalogs
(hints, explorers, messages, the claims ledger) and every Markdown cell of ``notebooks/ko/`` must too:

* no 하십시오체 request (-십시오): requests end in -세요;
* no 해요체 statement (-어요, -아요, -예요, -이에요, -해요, -돼요, ... at the end of a sentence); questions
  (-나요?, -ㄹ까요?) and -세요 requests are not statements and stay;
* no particle pair such as 이(가) or 을(를): the particle is chosen from the word it follows, or the sentence is
  reworded so that no particle follows a ``{field}`` whose value varies.

Quotations of the lecture notes keep their own words: text inside "..." or “...” and ``>`` block quotes is not
checked.
"""
import re
from pathlib import Path

import nbformat
import polib
import pytest

from cnnbook.course import language

REPO = Path(__file__).resolve().parents[1]
KO_DIR = REPO / "notebooks" / "ko"
CATALOGS = sorted(p.name for p in (language.CATALOG_DIR / "ko").glob("*.po"))
NOTEBOOKS = sorted(p.name for p in KO_DIR.glob("*.ipynb"))

SIBSIO = re.compile(r"[가-힣](?:십시오|십시요)")
# a word ending in 요 right before the end of a sentence (., !, :, ;, a closing bracket or quote, emphasis, the
# end of a line); a question mark is not among them, so -나요? and -ㄹ까요? questions pass
HAEYO = re.compile(r"([가-힣]*요)(?=[.!:;,()\]*_`'\"”’~]|\s*$)", re.MULTILINE)
# words ending in 요 that are not a 해요체 ending: -세요 requests, and nouns
NOT_HAEYO = re.compile(r".*세요|.*까요|필요|중요|주요|개요|수요|강요|요|아니요")
PAIR = re.compile(r"[가-힣}`)\w]\((?:이|가|을|를|은|는|으|과|와|이라|으로|로)\)")
QUOTED = re.compile(r'"[^"\n]*"|“[^”]*”|^\s*>.*$', re.MULTILINE)


def findings(text: str) -> list[str]:
    """What in ``text`` breaks the register, each as a short excerpt naming the rule."""
    text = QUOTED.sub(" ", text)
    found = [f"-십시오: {text[max(0, m.start() - 20):m.end()]!r}" for m in SIBSIO.finditer(text)]
    found += [f"해요체: {text[max(0, m.start() - 20):m.end() + 1]!r}" for m in HAEYO.finditer(text)
              if not NOT_HAEYO.fullmatch(m.group(1))]
    found += [f"particle pair: {text[max(0, m.start() - 20):m.end()]!r}" for m in PAIR.finditer(text)]
    return found


def catalog_texts(name: str) -> list[str]:
    return [e.msgstr for e in polib.pofile(str(language.CATALOG_DIR / "ko" / name)) if not e.obsolete]


def markdown_texts(name: str) -> list[str]:
    return [c.source for c in nbformat.read(KO_DIR / name, as_version=4).cells if c.cell_type == "markdown"]


# ---- the rule itself ------------------------------------------------------------------------------
@pytest.mark.parametrize("text", [
    "함수 자체를 넘기십시오: check(f)",
    "아직 안 했어요: conv_forward_naive",
    "출력이 한 행, 한 열 너무 커요.",
    "dx가 패딩한 입력의 모양이에요. 패딩을 잘라 내세요",
    "db는 필터마다 원소가 하나예요",
    "평균에 float(...)을 씌우면 돼요",
    "(2, 3, 4, 4)여야 해요: 패딩을 적용했나요?",
    "평평한 패치는 밝기를 그대로 유지해요(블러 커널)",
    "{call}이(가) None을 반환했습니다",
    "{what}을(를) 넘기세요",
    "{name!r}(이)라는 과제가 없습니다",
])
def test_the_check_catches_each_kind_of_slip(text):
    assert findings(text), text


@pytest.mark.parametrize("text", [
    "아직 하지 않았습니다: conv_forward_naive",
    "함수 자체를 넘기세요: check(f)",
    "패딩을 적용했습니까? 먼저 x를 패딩하세요(xp.pad)",
    "## Q1. 필터는 어떻게 얻어지나요?",
    "출력 크기는 얼마가 될까요? 예측을 적어 보세요.",
    "예/아니요 값(True)입니다. 이 값은 수입니다: 정확도(0과 1 사이의 비율; 필요)",
    "노트는 \"풀링은 학습할 파라미터가 없어요.\"라고 씁니다.",
    "> 노트의 말: 합성곱은 지역적인 특징을 봐요.\n\n측정해 보면 그렇습니다.",
    "측정값({value})이 조건({needs})을 만족하지 않습니다",
])
def test_the_check_passes_the_register_and_quotations_of_the_notes(text):
    assert not findings(text), findings(text)


# ---- the catalogs and the notebooks ---------------------------------------------------------------
def test_there_is_something_to_check():
    assert {"exercises.po", "explorers.po", "messages.po", "claims.po"} <= set(CATALOGS)
    assert len(NOTEBOOKS) >= 13


@pytest.mark.parametrize("name", CATALOGS)
def test_every_korean_message_is_in_the_notebooks_register(name):
    texts = catalog_texts(name)
    assert len(texts) >= 10  # data.po holds the ten class names
    found = [f for text in texts for f in findings(text)]
    assert not found, f"{name}: {len(found)} slips of register, e.g.\n" + "\n".join(found[:15])


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_every_korean_markdown_cell_is_in_the_notebooks_register(name):
    texts = markdown_texts(name)
    assert texts
    found = [f for text in texts for f in findings(text)]
    assert not found, f"{name}: {len(found)} slips of register, e.g.\n" + "\n".join(found[:15])


def test_the_notebooks_speak_hamnida_with_seyo_requests():
    """The register the rules above keep: statements in -ㅂ니다/-습니다 far outnumber everything else."""
    text = QUOTED.sub(" ", "\n".join(t for name in NOTEBOOKS for t in markdown_texts(name)))
    statements = len(re.findall(r"[가-힣]니다[.:)\s]", text))
    requests = len(re.findall(r"세요[.:)\s]", text))
    assert statements > 1000 and requests > 30, (statements, requests)


GOALS_HEADER = "**학습 목표.** 이 노트북을 마치면 다음을 할 수 있습니다."


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_learning_goals_and_headings_read_alike_in_every_notebook(name):
    """One goals header, each goal ending "-ㄹ 수 있습니다."; headings plain (no -니다, no -요 ending)."""
    texts = markdown_texts(name)
    goals = next(t for t in texts if "학습 목표" in t)
    assert GOALS_HEADER in goals, f"{name}: the goals start otherwise than {GOALS_HEADER!r}"
    block = goals[goals.index(GOALS_HEADER) + len(GOALS_HEADER):].lstrip("\n").split("\n\n")[0]
    items = re.findall(r"^- (.*(?:\n  .*)*)", block, re.MULTILINE)
    assert 3 <= len(items) <= 8, (name, items)
    odd = [item for item in items if not item.rstrip().endswith("수 있습니다.") or item.startswith("[ ]")]
    assert not odd, f"{name}: goals that do not end in '-ㄹ 수 있습니다.': {odd}"
    headings = [line for t in texts for line in t.splitlines() if re.match(r"#{1,4} ", line)]
    assert headings
    polite = [h for h in headings if re.search(r"(니다|요)[.?!]?$", h.rstrip())]
    assert not polite, f"{name}: headings are plain statements or questions, not {polite}"
