"""The predict-then-measure checks (notebooks 09-11; cnnbook/course/exercises/predict.py).

A prediction check never fails a well-formed prediction, however far off; it notes a missing one as not done yet
(on stderr, without raising) and fails a malformed one with a hint. Each prediction's exercise in its notebook is
checked with the deeper exercises' in tests/test_exercises_deeper.py.
"""
import numpy as np
import pytest

from cnnbook import exercises
from cnnbook.course.exercises import ExerciseError
from cnnbook.course.exercises.predict import PREDICTIONS

# ---- predict, then measure -----------------------------------------------------------------------
CHECKS = {"shift_drop": exercises.check_shift_drop_prediction,
          "nopos_shuffle": exercises.check_nopos_shuffle_prediction,
          "shuffle_most_hurt": exercises.check_shuffle_most_hurt_prediction,
          "cue_followed": exercises.check_cue_prediction,
          "rotation_90": exercises.check_rotation_prediction}


def test_every_prediction_task_has_its_own_check():
    assert set(CHECKS) == set(PREDICTIONS)
    assert len({check.__name__ for check in CHECKS.values()}) == len(CHECKS)  # one nbgrader grade id each


@pytest.mark.parametrize("predicted, measured, words", [
    (0.5, 0.04, ["prediction 0.5, measured 0.04: off by 0.46 (too high", "you expected more loss",
                 "why: every conv layer is equivariant"]),
    (0.0, 0.04, ["off by 0.04 (close", "why: "]),
    (0, 0.3, ["off by 0.3 (too low", "you expected less loss"]),
    (np.float32(0.1), np.float64(0.1), ["(close"]),
])
def test_a_number_prediction_passes_however_far_off_and_says_how_far_and_why(predicted, measured, words, capsys):
    assert exercises.check_shift_drop_prediction(predicted, measured) is predicted
    out = capsys.readouterr().out
    for w in words:
        assert w in out, f"{w!r} not in {out!r}"


@pytest.mark.parametrize("measured, words", [
    (0.03, "well below chance (0.1): the answers are not random guesses"),
    (0.4, "the measurement is 4 times chance (0.1)"),
])
def test_an_accuracy_is_compared_with_chance(measured, words, capsys):
    assert exercises.check_rotation_prediction(0.2, measured)
    out = capsys.readouterr().out
    assert words in out
    assert ("you expected the CNN to cope with rotation better" in out) == (measured < 0.1)


def test_a_device_scalar_is_a_number(xp):
    predicted = xp.asarray(0.3)
    assert exercises.check_rotation_prediction(predicted, xp.asarray(0.2)) is predicted


@pytest.mark.parametrize("predicted, measured, words", [
    ("shape", "texture", ["prediction 'shape', measured 'texture': not this time", "people answer by shape",
                          "why: each unit of the last conv layer"]),
    (" Texture ", "texture", ["prediction 'texture', measured 'texture': right"]),
    ("neither", "texture", ["does pick one cue consistently"]),
])
def test_a_choice_prediction_passes_when_wrong_and_explains(predicted, measured, words, capsys):
    assert exercises.check_cue_prediction(predicted, measured) is predicted
    out = capsys.readouterr().out
    for w in words:
        assert w in out


def test_yes_no_takes_a_bool_too(capsys):
    assert exercises.check_nopos_shuffle_prediction(True, "no")
    assert "prediction 'yes', measured 'no'" in capsys.readouterr().out


@pytest.mark.parametrize("name", sorted(PREDICTIONS))
@pytest.mark.parametrize("missing", [None, Ellipsis])
def test_a_missing_prediction_is_not_done_yet_on_stderr(name, missing, capsys):
    p = PREDICTIONS[name]
    measured = 0.2 if p.kind == "number" else p.options[0]
    assert CHECKS[name](missing, measured) is None
    out, err = capsys.readouterr()
    assert out == "" and err.startswith(f"not done yet: {p.variable} is not set. Write down your prediction"), err


@pytest.mark.parametrize("missing", [None, Ellipsis])
def test_check_prediction_itself_still_fails_a_missing_prediction_with_an_example(missing):
    with pytest.raises(ExerciseError, match=f"predicted_drop is {missing!r}: write down your prediction first"):
        exercises.check_prediction("shift_drop", missing, 0.2)


@pytest.mark.parametrize("predicted, hint", [
    ("0.2", "is the string '0.2'; write the number itself without quotes"),
    (3, "predicted_drop = 3 is outside [0, 1]"),
    (30, "did you mean 0.3 (30 %)?"),
    (-0.1, "is outside [0, 1]"),
    (float("nan"), "write a finite number"),
    (True, "a yes/no"),
    ([0.1, 0.2], "is a list"),
    (np.array([0.1, 0.2]), "write one number"),
])
def test_a_malformed_number_fails_with_a_hint(predicted, hint):
    with pytest.raises(ExerciseError) as info:
        exercises.check_shift_drop_prediction(predicted, 0.05)
    assert hint in str(info.value)


@pytest.mark.parametrize("check, predicted, hint", [
    (exercises.check_cue_prediction, "colour", "is not one of the options: write one of 'shape' or 'texture' or"),
    (exercises.check_cue_prediction, 1, "write one of 'shape'"),
    (exercises.check_shuffle_most_hurt_prediction, "the CNN", "is not one of the options"),
    (exercises.check_nopos_shuffle_prediction, "maybe", "write one of 'yes' or 'no'"),
])
def test_a_malformed_choice_fails_with_the_options(check, predicted, hint):
    measured = {exercises.check_cue_prediction: "texture", exercises.check_shuffle_most_hurt_prediction: "cnn",
                exercises.check_nopos_shuffle_prediction: "no"}[check]
    with pytest.raises(ExerciseError) as info:
        check(predicted, measured)
    assert hint in str(info.value)


def test_a_bad_measurement_or_task_is_the_notebooks_error_not_the_learners():
    with pytest.raises(ValueError, match="no prediction task named 'shift'"):
        exercises.check_prediction("shift", 0.1, 0.1)
    with pytest.raises(ValueError, match="the measured value is"):
        exercises.check_cue_prediction("shape", "colour")
    with pytest.raises(ValueError, match="the measured value is a NoneType"):
        exercises.check_shift_drop_prediction(0.1, None)
