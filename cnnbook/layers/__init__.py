"""CNN building blocks as pure forward/backward pairs, in the shape of CS231n's ``layers.py``.

Every layer is two functions::

    out, cache = <layer>_forward(x, ...)
    dx, ... = <layer>_backward(dout, cache)

``cache`` holds what the backward pass needs (documented per function); a call never changes an
earlier cache, so a second forward pass does not alter what the first one's backward computes.
Arrays are ``(N, C, H, W)`` images, ``(F, C, KH, KW)`` conv weights, ``(F,)`` biases.
"Convolution" means cross-correlation, as in CS231n and PyTorch (the kernel is not flipped).
Functions keep the dtype they are given and accept NumPy or CuPy arrays, returning the same kind.
Bad input raises ``ValueError``/``TypeError`` naming the offending values; the checks that raise them, used
by the whole package, are in :mod:`cnnbook.layers.checks`.
"""
from cnnbook.layers.basic import linear_backward, linear_forward, relu_backward, relu_forward
from cnnbook.layers.conv import conv2d_backward, conv2d_forward
from cnnbook.layers.conv_naive import conv2d_backward_naive, conv2d_forward_naive
from cnnbook.layers.losses import softmax_cross_entropy, svm_loss
from cnnbook.layers.pool import avg_pool2d_backward, avg_pool2d_forward, max_pool2d_backward, max_pool2d_forward
from cnnbook.layers.sizes import conv_output_size, receptive_field

__all__ = [
    "conv_output_size", "receptive_field",
    "conv2d_forward", "conv2d_backward", "conv2d_forward_naive", "conv2d_backward_naive",
    "max_pool2d_forward", "max_pool2d_backward", "avg_pool2d_forward", "avg_pool2d_backward",
    "relu_forward", "relu_backward", "linear_forward", "linear_backward",
    "softmax_cross_entropy", "svm_loss",
]
