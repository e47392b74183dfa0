"""What makes the notebooks a course rather than a library.

| module | what it holds |
| --- | --- |
| :mod:`cnnbook.course.exercises` | the checks behind the *Your turn* exercises, with hints in words |
| :mod:`cnnbook.course.student` | the student edition: solutions replaced by stubs, hidden tests dropped |

The course room uses the core, ``data`` and ``models``; nothing below it imports it.
"""
