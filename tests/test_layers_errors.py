"""Every public layer function refuses bad input with a ValueError/TypeError that names the values."""
import numpy as np
import pytest

from cnnbook.layers import (
    avg_pool2d_forward,
    conv2d_backward,
    conv2d_forward,
    conv2d_forward_naive,
    conv_output_size,
    linear_backward,
    linear_forward,
    max_pool2d_backward,
    max_pool2d_forward,
    receptive_field,
    relu_backward,
    relu_forward,
    softmax_cross_entropy,
    svm_loss,
)

x = np.zeros((2, 3, 8, 8))
w = np.zeros((4, 3, 3, 3))
b = np.zeros(4)
scores = np.zeros((3, 5))
y = np.array([0, 1, 4])

CASES = [
    # (call, exception, text the message must contain)
    (lambda: conv_output_size(28.0, 3), TypeError, "28.0"),
    (lambda: conv_output_size(28, 3, stride=0), ValueError, "stride=0 must be >= 1"),
    (lambda: conv_output_size(28, 3, padding=-1), ValueError, "padding=-1 must be >= 0"),
    (lambda: conv_output_size(28, 3, stride=True), TypeError, "True"),
    (lambda: conv_output_size(32, 5, 2), ValueError, "(32 - 5 + 2*0) / 2"),
    (lambda: receptive_field([(3, 1), (3,)]), ValueError, "layers[1]"),
    (lambda: receptive_field([(3, 0)]), ValueError, "layers[0] stride=0 must be >= 1"),
    (lambda: receptive_field(5), TypeError, "int"),
    (lambda: conv2d_forward(x[0], w, b), ValueError, "(3, 8, 8)"),
    (lambda: conv2d_forward(x, w[:, :2], b), ValueError, "x has 3 channels"),
    (lambda: conv2d_forward(x, w, b[:3]), ValueError, "b has 3 entries but w has F=4"),
    (lambda: conv2d_forward(x, w, b, stride=0), ValueError, "stride=0 must be >= 1"),
    (lambda: conv2d_forward(x, w, b, padding=-2), ValueError, "padding=-2 must be >= 0"),
    (lambda: conv2d_forward(x, w, b, stride=(1, 2, 3)), ValueError, "(1, 2, 3)"),
    (lambda: conv2d_forward(x, np.zeros((4, 3, 11, 3)), b), ValueError, "kernel 11 is larger than the padded height 8"),
    (lambda: conv2d_forward(x, w, b, stride=2), ValueError, "(8 - 3 + 2*0) / 2"),
    (lambda: conv2d_forward(x, w, b, stride=1.5), TypeError, "1.5"),
    (lambda: conv2d_forward(x.astype(np.float32), w, b), TypeError, "x is float32, w is float64"),
    (lambda: conv2d_forward(x.astype(int), w.astype(int), b.astype(int)), TypeError, "int64"),
    (lambda: conv2d_forward(x.tolist(), w, b), TypeError, "list"),
    (lambda: conv2d_forward_naive(x, w, b[:3]), ValueError, "b has 3 entries"),
    (lambda: conv2d_forward(x[:, :0], w[:, :0], b), ValueError, "x has shape (2, 0, 8, 8) (N, C, H, W), so C=0"),
    (lambda: conv2d_forward_naive(x[:, :0], w[:, :0], b), ValueError, "so C=0: nothing to compute"),
    (lambda: conv2d_forward(x, w[:0], b[:0]), ValueError, "w has shape (0, 3, 3, 3) (F, C, KH, KW), so F=0"),
    (lambda: linear_forward(np.zeros((2, 3)), np.zeros((3, 0)), np.zeros(0)), ValueError, "so M=0"),
    (lambda: softmax_cross_entropy(np.zeros((3, 0)), y), ValueError, "so K=0"),
    (lambda: conv2d_backward(np.zeros((2, 4, 5, 5)), conv2d_forward(x, w, b)[1]), ValueError,
     "dout has shape (2, 4, 5, 5) but conv2d_forward's output had shape (2, 4, 6, 6)"),
    (lambda: conv2d_backward(np.zeros((2, 4, 6, 6)), "cache"), TypeError, "cache must be the tuple"),
    (lambda: max_pool2d_forward(x, 0), ValueError, "kernel_size=0 must be >= 1"),
    (lambda: max_pool2d_forward(x, 9), ValueError, "pooling window 9x9 is larger than the input 8x8"),
    (lambda: max_pool2d_forward(x, 2, stride=0), ValueError, "stride=0 must be >= 1"),
    (lambda: avg_pool2d_forward(x[0], 2), ValueError, "(3, 8, 8)"),
    (lambda: max_pool2d_backward(np.zeros((2, 3, 3, 3)), max_pool2d_forward(x, 2)[1]), ValueError, "(2, 3, 4, 4)"),
    (lambda: relu_backward(np.zeros((2, 3)), relu_forward(np.zeros((2, 4)))[1]), ValueError, "(2, 4)"),
    (lambda: linear_forward(x, np.zeros((100, 5)), np.zeros(5)), ValueError, "x has 192 features"),
    (lambda: linear_forward(x, np.zeros((192, 5)), np.zeros(4)), ValueError, "b has 4 entries but w has M=5"),
    (lambda: linear_forward(np.zeros(5), np.zeros((5, 2)), np.zeros(2)), ValueError, "got shape (5,)"),
    (lambda: linear_backward(np.zeros((2, 4)), linear_forward(np.zeros((2, 3)), np.zeros((3, 5)), np.zeros(5))[1]),
     ValueError, "(2, 5)"),
    (lambda: softmax_cross_entropy(scores, np.array([0, 1, 5])), ValueError, "label 5 in y is out of range for K=5"),
    (lambda: svm_loss(scores, np.array([0, -1, 2])), ValueError, "label -1"),
    (lambda: softmax_cross_entropy(scores, y[:2]), ValueError, "scores has 3 rows"),
    (lambda: svm_loss(scores, y.astype(float)), TypeError, "float64"),
    (lambda: softmax_cross_entropy(scores[0], y), ValueError, "got shape (5,)"),
]


@pytest.mark.parametrize("call,exc,text", CASES, ids=[c[2][:40] for c in CASES])
def test_bad_input_is_refused_with_a_useful_message(call, exc, text):
    with pytest.raises(exc) as info:
        call()
    assert text in str(info.value)


def test_mixed_backends_are_refused(xp):
    if xp is np:
        pytest.skip("needs a second backend")
    from cnnbook import backend
    with pytest.raises(TypeError, match="different backends"):
        conv2d_forward(backend.to_device(x, xp), w, b)
