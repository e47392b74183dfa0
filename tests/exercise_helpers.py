"""Shared by the exercise-check tests."""
import pytest

from cnnbook.course.exercises import ExerciseError


def rejects(check, fn, *fragments):
    """Assert that ``check(fn)`` fails with an ExerciseError whose message contains every fragment."""
    with pytest.raises(ExerciseError) as info:
        check(fn)
    for fragment in fragments:
        assert fragment in str(info.value), f"{fragment!r} not in: {info.value}"
    return str(info.value)
