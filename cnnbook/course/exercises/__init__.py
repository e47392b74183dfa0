"""Checks for the workbook's "Your turn" exercises: run the learner's function on hidden cases, explain mistakes.

Each ``check_<name>(fn)`` runs ``fn`` on cases the learner has not seen (drawn on the host from a fixed seed,
then moved to the default backend, so learners on CuPy are checked on CuPy) and compares with the reference
in :mod:`cnnbook.layers`. On success it prints one ``correct: ...`` line naming what was tested and returns
``True``. A wrong answer raises :class:`ExerciseError` (an ``AssertionError``) whose message says what is
wrong and the likely cause, e.g. ``out has shape (2, 4, 7, 9), expected (2, 4, 4, 5): is the stride applied?``.
The checks exported here return what the lesson should use next: the learner's function once it passes. For an
exercise not done yet (the student edition's stub raises ``NotImplementedError``; a prediction is still ``...``)
a check raises nothing: it writes a "not done yet" note to stderr, which nbgrader scores 0, and returns the
package's reference (:mod:`~cnnbook.course.exercises.references`), so Run All goes on to the end of the lesson
(:mod:`~cnnbook.course.exercises._flow`). A notebook whose later cells call the learner's function rebinds it:
``softmax_loss = check_softmax_loss(softmax_loss)``.

The *predict, then measure* checks (:mod:`cnnbook.course.exercises.predict`) take the learner's prediction and the
notebook's measurement instead of a function: they print how far off the prediction was and why, note a missing
one as not done yet, and fail only for a malformed prediction.

| notebook | learner writes | check |
| --- | --- | --- |
| 01 | ``softmax_loss(scores, y) -> (loss, dscores)`` | :func:`check_softmax_loss` |
| 02 | ``relu_backward(dout, x) -> dx`` | :func:`check_relu_backward` |
| 02 | ``sgd_step(w, dw, lr) -> new_w`` | :func:`check_sgd_step` |
| 03 | ``conv_forward_naive(x, w, b, stride=1, padding=0) -> out`` | :func:`check_conv_forward_naive` |
| 04 | ``conv_output_size(input_size, kernel_size, stride=1, padding=0) -> int`` | :func:`check_conv_output_size` |
| 04 | ``build_model() -> nn.Sequential``, ``(N, 1, 28, 28) -> (N, 16, 7, 7)`` | :func:`check_architecture` |
| 05 | ``receptive_field(layers) -> int`` | :func:`check_receptive_field` |
| 05 | ``dilated_receptive_field(layers) -> int``, layers with a dilation | :func:`check_dilated_receptive_field` |
| 06 | ``max_pool_forward(x, kernel_size=2, stride=None) -> out`` | :func:`check_max_pool_forward` |
| 06 | ``max_pool_backward(dout, x, kernel_size=2, stride=None) -> dx`` | :func:`check_max_pool_backward` |
| 07 | ``conv_backward_naive(dout, x, w, stride=1, padding=0) -> (dx, dw, db)`` | :func:`check_conv_backward_naive` |
| 07 | ``im2col(x, kernel_size, stride=1, padding=0) -> (N, C*K*K, Ho*Wo)`` | :func:`check_im2col` |
| 08 | ``conv_param_count(in_channels, out_channels, kernel_size) -> int`` | :func:`check_conv_param_count` |
| 09 | ``shift_error(feature_fn, x, k) -> float`` | :func:`check_equivariance` |
| 09 | predict ``predicted_drop`` (a fraction), then measure | :func:`check_shift_drop_prediction` |
| 09 | ``local_param_count(...) -> int``, a locally connected layer's parameters | :func:`check_local_param_count` |
| 10 | ``patchify(x, patch_size) -> (N, T, C*P*P)`` | :func:`check_patchify` |
| 10 | predict ``predicted_changes`` (``"yes"``/``"no"``), then measure | :func:`check_nopos_shuffle_prediction` |
| 10 | predict ``predicted_most_hurt`` (a model), then measure | :func:`check_shuffle_most_hurt_prediction` |
| 11 | predict ``predicted_accuracy_90`` (an accuracy), then measure | :func:`check_rotation_prediction` |
| 11 | predict ``predicted_cue`` ("shape"/"texture"/"neither"), then measure | :func:`check_cue_prediction` |
| 11 | ``cue_conflict_fraction(pred, shape_labels, texture_labels)`` | :func:`check_cue_conflict_fraction` |
| 12 | ``kfold_indices(num_samples, k, seed=0) -> [(train_idx, val_idx), ...]`` | :func:`check_cross_validation` |
| 13 | ``port_to_torch(model) -> torch.nn.Sequential`` (needs PyTorch) | :func:`check_port_to_torch` |
"""
from cnnbook.course.exercises import references as _ref
from cnnbook.course.exercises._common import ExerciseError
from cnnbook.course.exercises._flow import function_check as _function
from cnnbook.course.exercises._flow import prediction_check as _prediction
from cnnbook.course.exercises.basics import (
                                              check_cross_validation,
                                              check_relu_backward,
                                              check_sgd_step,
                                              check_softmax_loss,
)
from cnnbook.course.exercises.conv import check_conv_backward_naive, check_conv_forward_naive
from cnnbook.course.exercises.deeper import check_dilated_receptive_field, check_im2col, check_local_param_count
from cnnbook.course.exercises.frameworks import check_port_to_torch
from cnnbook.course.exercises.models import check_conv_param_count, check_cue_conflict_fraction, check_patchify
from cnnbook.course.exercises.pooling import check_equivariance, check_max_pool_backward, check_max_pool_forward
from cnnbook.course.exercises.predict import (
                                              check_cue_prediction,
                                              check_nopos_shuffle_prediction,
                                              check_prediction,
                                              check_rotation_prediction,
                                              check_shift_drop_prediction,
                                              check_shuffle_most_hurt_prediction,
)
from cnnbook.course.exercises.sizes import check_architecture, check_conv_output_size, check_receptive_field

# what each check hands back while its exercise is not done yet; the name is the one show_solution() takes
check_softmax_loss = _function(check_softmax_loss, "softmax_loss", _ref.softmax_loss)
check_relu_backward = _function(check_relu_backward, "relu_backward", _ref.relu_backward)
check_sgd_step = _function(check_sgd_step, "sgd_step", _ref.sgd_step)
check_conv_forward_naive = _function(check_conv_forward_naive, "conv_forward_naive", _ref.conv_forward_naive)
check_conv_output_size = _function(check_conv_output_size, "conv_output_size", _ref.conv_output_size)
check_architecture = _function(check_architecture, "architecture", _ref.build_model)
check_receptive_field = _function(check_receptive_field, "receptive_field", _ref.receptive_field)
check_dilated_receptive_field = _function(check_dilated_receptive_field, "dilated_receptive_field",
                                          _ref.dilated_receptive_field)
check_max_pool_forward = _function(check_max_pool_forward, "max_pool_forward", _ref.max_pool_forward)
check_max_pool_backward = _function(check_max_pool_backward, "max_pool_backward", _ref.max_pool_backward)
check_conv_backward_naive = _function(check_conv_backward_naive, "conv_backward_naive", _ref.conv_backward_naive)
check_im2col = _function(check_im2col, "im2col", _ref.im2col)
check_conv_param_count = _function(check_conv_param_count, "conv_param_count", _ref.conv_param_count)
check_equivariance = _function(check_equivariance, "equivariance", _ref.shift_error)
check_local_param_count = _function(check_local_param_count, "local_param_count", _ref.local_param_count)
check_patchify = _function(check_patchify, "patchify", _ref.patchify)
check_cue_conflict_fraction = _function(check_cue_conflict_fraction, "cue_conflict_fraction",
                                        _ref.cue_conflict_fraction)
check_cross_validation = _function(check_cross_validation, "cross_validation", _ref.kfold_indices)
check_port_to_torch = _function(check_port_to_torch, "port_to_torch", _ref.port_to_torch)
check_shift_drop_prediction = _prediction(check_shift_drop_prediction, "predicted_drop")
check_nopos_shuffle_prediction = _prediction(check_nopos_shuffle_prediction, "predicted_changes")
check_shuffle_most_hurt_prediction = _prediction(check_shuffle_most_hurt_prediction, "predicted_most_hurt")
check_rotation_prediction = _prediction(check_rotation_prediction, "predicted_accuracy_90")
check_cue_prediction = _prediction(check_cue_prediction, "predicted_cue")

__all__ = ["ExerciseError", "check_softmax_loss", "check_relu_backward", "check_sgd_step", "check_conv_forward_naive",
           "check_conv_output_size", "check_architecture", "check_receptive_field", "check_max_pool_forward",
           "check_max_pool_backward", "check_conv_backward_naive", "check_equivariance", "check_cross_validation",
           "check_conv_param_count", "check_patchify", "check_cue_conflict_fraction", "check_dilated_receptive_field",
           "check_im2col", "check_local_param_count", "check_prediction", "check_shift_drop_prediction",
           "check_nopos_shuffle_prediction", "check_shuffle_most_hurt_prediction", "check_cue_prediction",
           "check_rotation_prediction", "check_port_to_torch"]
