"""The exercise checks under their first name, ``cnnbook.exercises``; they live in :mod:`cnnbook.course.exercises`.

``from cnnbook.exercises import check_conv_forward_naive`` keeps working for outside test suites.
"""
from cnnbook.course.exercises import (
    ExerciseError,
    check_architecture,
    check_conv_backward_naive,
    check_conv_forward_naive,
    check_conv_output_size,
    check_conv_param_count,
    check_cross_validation,
    check_cue_conflict_fraction,
    check_cue_prediction,
    check_dilated_receptive_field,
    check_equivariance,
    check_im2col,
    check_local_param_count,
    check_max_pool_backward,
    check_max_pool_forward,
    check_nopos_shuffle_prediction,
    check_patchify,
    check_port_to_torch,
    check_prediction,
    check_receptive_field,
    check_relu_backward,
    check_rotation_prediction,
    check_sgd_step,
    check_shift_drop_prediction,
    check_shuffle_most_hurt_prediction,
    check_softmax_loss,
)

__all__ = ["ExerciseError", "check_softmax_loss", "check_relu_backward", "check_sgd_step", "check_conv_forward_naive",
           "check_conv_output_size", "check_architecture", "check_receptive_field", "check_max_pool_forward",
           "check_max_pool_backward", "check_conv_backward_naive", "check_equivariance", "check_cross_validation",
           "check_conv_param_count", "check_patchify", "check_cue_conflict_fraction", "check_dilated_receptive_field",
           "check_im2col", "check_local_param_count", "check_prediction", "check_shift_drop_prediction",
           "check_nopos_shuffle_prediction", "check_shuffle_most_hurt_prediction", "check_cue_prediction",
           "check_rotation_prediction", "check_port_to_torch"]
