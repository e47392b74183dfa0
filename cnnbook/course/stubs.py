"""The words of the student edition's stubs, in each edition's language: one definition for the module that
writes them (:mod:`cnnbook.course.student`) and the checks that recognise them
(:func:`cnnbook.course.exercises._flow.is_stub`).

A solution region becomes, in English::

    # YOUR CODE HERE
    raise NotImplementedError("Your turn: conv_forward_naive: replace this with your solution")

and in the Korean edition::

    # 여기에 코드를 작성하세요
    raise NotImplementedError("직접 해 보기: conv_forward_naive: 이 줄을 여러분의 풀이로 바꾸세요")

A check knows a stub by the message starting with its edition's :attr:`Stub.prefix` (any edition's: a Korean
stub run in an English kernel is still a stub). This module imports nothing, so the checks stay light.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Stub:
    """What a stub says in one language. ``raises`` and ``predicts`` are ``str.format`` templates filled with
    ``prefix`` and ``name`` (the exercise)."""

    prefix: str      # starts every stub's message; also the exercise cell's first-line comment ``# <prefix>: name``
    code: str        # the comment line where the solution was
    answer: str      # a solution region in a Markdown cell
    raises: str      # the NotImplementedError's message
    predicts: str    # the comment after ``variable = ...`` for a prediction not made yet


STUBS = {
    "en": Stub(prefix="Your turn", code="# YOUR CODE HERE", answer="YOUR ANSWER HERE",
               raises="{prefix}: {name}: replace this with your solution",
               predicts="{prefix}: {name}: replace ... with your answer"),
    "ko": Stub(prefix="직접 해 보기", code="# 여기에 코드를 작성하세요", answer="여기에 답을 작성하세요",
               raises="{prefix}: {name}: 이 줄을 여러분의 풀이로 바꾸세요",
               predicts="{prefix}: {name}: ... 자리에 여러분의 답을 쓰세요"),
}
"""The stub of each edition (``"en"``, ``"ko"``: :data:`cnnbook.course.student.EDITIONS`)."""

PREFIXES = tuple(stub.prefix for stub in STUBS.values())
"""Every edition's stub prefix: a ``NotImplementedError`` whose message starts with one is a stub's."""


def stub(lang: str) -> Stub:
    """The :class:`Stub` of edition ``lang``; ``ValueError`` naming it for an unknown one."""
    try:
        return STUBS[lang]
    except KeyError:
        raise ValueError(f"lang={lang!r}: the stubs are written in {', '.join(map(repr, STUBS))}") from None
