"""What makes the notebooks a course rather than a library.

| module | what it holds |
| --- | --- |
| :mod:`cnnbook.course.exercises` | the checks behind the *Your turn* exercises, with hints in words |
| :mod:`cnnbook.course.student` | the student edition: solutions replaced by stubs, hidden tests dropped |
| :mod:`cnnbook.course.stubs` | the stubs' words in each edition's language, which the checks recognise |
| :mod:`cnnbook.course.learner` | the learner's working copy of the student edition behind ``python -m cnnbook lab`` |
| :mod:`cnnbook.course.solutions` | ``show_solution(name)``: one exercise's reference solution, for a stuck learner |
| :mod:`cnnbook.course.grading` | nbgrader's cell metadata for the exercises (answer/test cells, ``grade_id``, points) |

The course room uses the core, ``data`` and ``models``; nothing below it imports it, with one exception:
:mod:`cnnbook.course.language` (``tr``, ``N_``) is a core service, which the layers' error messages use to
speak the learner's language. It imports only the standard library and polib, and this file imports nothing,
so importing it brings nothing else of the course along (tests/test_layout.py keeps both true).
"""
