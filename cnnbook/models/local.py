"""A locally connected layer: a convolution's locality without its parameter sharing (notebook 09).

``LocallyConnected2d`` looks, like ``Conv2d``, at a ``KH x KW`` window of the input for each output
position, but every position has its **own** filters: weight ``(Ho, Wo, F, C, KH, KW)`` and one bias per
output value, ``(F, Ho, Wo)``. It separates the two savings a convolution makes over a fully connected layer:

* **locality** (each output sees ``C*KH*KW`` inputs, not all ``C*H*W``): fully connected -> locally connected;
* **parameter sharing** (one filter for all ``Ho*Wo`` positions): locally connected -> convolution.

With the same filter copied to every position it computes exactly ``Conv2d``; trained freely it is not
translation-equivariant. Forward: gather the windows (one strided slice per kernel offset, as the fast
convolution does) and take one small matrix product per output position (a batched ``@``); backward: the same
products transposed and a slice-add per kernel offset (col2im).
"""
from __future__ import annotations

import numpy as np

from cnnbook import backend
from cnnbook.course.language import tr
from cnnbook.layers.checks import pair, upstream_gradient, whole_number
from cnnbook.layers.sizes import conv_output_size, window
from cnnbook.nn.base import Module, check_float_input, init_parameter, zeros_parameter


def _windows(xpad, KH, KW, S, Ho, Wo, xp):
    """``(N, C, KH*KW, Ho, Wo)``: for every kernel offset, the input value each output position reads."""
    return xp.stack([xpad[:, :, window(di, Ho, S), window(dj, Wo, S)] for di in range(KH) for dj in range(KW)],
                    axis=2)


class LocallyConnected2d(Module):
    """Unshared convolution over ``(N, C, H, W)`` images of a fixed size ``input_size = (H, W)``.

    weight ``(Ho, Wo, F, C, KH, KW)``: the filters of output position ``(i, j)``; bias ``(F, Ho, Wo)``;
    output ``(N, F, Ho, Wo)`` with ``Ho = (H - KH + 2 * padding) / stride + 1`` (same for ``Wo``).
    ``out[n, f, i, j] = sum_{c, di, dj} xpad[n, c, i*S + di, j*S + dj] * weight[i, j, f, c, di, dj] + bias[f, i, j]``.
    """

    def __init__(self, in_channels, out_channels, kernel_size, input_size, stride=1, padding=0, *,
                 rng=None, dtype=np.float32, weight_scale=None):
        self.in_channels = whole_number(in_channels, "in_channels", minimum=1)
        self.out_channels = whole_number(out_channels, "out_channels", minimum=1)
        self.kernel_size = pair(kernel_size, "kernel_size", minimum=1)
        self.input_size = pair(input_size, "input_size", minimum=1)
        self.stride = whole_number(stride, "stride", minimum=1)
        self.padding = whole_number(padding, "padding", minimum=0)
        (kh, kw), (H, W) = self.kernel_size, self.input_size
        self.output_size = (conv_output_size(H, kh, self.stride, self.padding, what="height"),
                            conv_output_size(W, kw, self.stride, self.padding, what="width"))
        Ho, Wo = self.output_size
        self.weight = init_parameter((Ho, Wo, self.out_channels, self.in_channels, kh, kw),
                                     self.in_channels * kh * kw, rng, dtype, weight_scale)
        self.bias = zeros_parameter((self.out_channels, Ho, Wo), dtype)

    @classmethod
    def from_conv(cls, conv, input_size):
        """The locally connected layer that computes exactly ``conv`` (a ``Conv2d``): its filter at every position."""
        layer = cls(conv.in_channels, conv.out_channels, conv.kernel_size, input_size, conv.stride, conv.padding,
                    dtype=conv.weight.data.dtype)
        xp = backend.get_array_module(conv.weight.data)
        Ho, Wo = layer.output_size
        layer.weight.data = xp.broadcast_to(conv.weight.data, layer.weight.shape).copy()
        layer.bias.data = xp.broadcast_to(conv.bias.data[:, None, None], layer.bias.shape).copy()
        layer.weight.grad = xp.zeros_like(layer.weight.data)
        layer.bias.grad = xp.zeros_like(layer.bias.data)
        return layer

    def forward(self, x):
        C, (H, W) = self.in_channels, self.input_size
        check_float_input(self, x, self.weight.data, f"(N, {C}, {H}, {W})")
        if x.ndim != 4 or tuple(x.shape[1:]) != (C, H, W):
            raise ValueError(tr("{layer} expects input of shape (N, {channels}, {height}, {width}), got {shape}: a "
                                "locally connected layer has filters for one input size only; set input_size and "
                                "in_channels", layer=repr(self), channels=C, height=H, width=W, shape=tuple(x.shape)))
        xp = backend.get_array_module(x)
        P, S = self.padding, self.stride
        (KH, KW), (Ho, Wo), F = self.kernel_size, self.output_size, self.out_channels
        xpad = xp.pad(x, ((0, 0), (0, 0), (P, P), (P, P))) if P else x  # (N, C, H+2P, W+2P)
        N, P = x.shape[0], Ho * Wo
        cols = _windows(xpad, KH, KW, S, Ho, Wo, xp).reshape(N, C * KH * KW, P)  # (N, C*KH*KW, Ho*Wo)
        cols_p = cols.transpose(2, 0, 1)  # (P, N, C*KH*KW): one small matrix per output position
        w_p = self.weight.data.reshape(P, F, C * KH * KW)  # (P, F, C*KH*KW)
        out = cols_p @ w_p.transpose(0, 2, 1)  # (P, N, F): a batch of P matrix products
        out = out.transpose(1, 2, 0).reshape(N, F, Ho, Wo) + self.bias.data  # (N, F, Ho, Wo)
        self._cache = (cols_p, xpad.shape)
        return out

    def backward(self, dout):
        cols_p, xpad_shape = self._cached()
        xp = backend.get_array_module(dout)
        N = cols_p.shape[1]
        P, S, C, F = self.padding, self.stride, self.in_channels, self.out_channels
        (KH, KW), (Ho, Wo), (H, W) = self.kernel_size, self.output_size, self.input_size
        # dx has the input's dtype (cols_p is made of the input), whatever dtype dout arrives in
        dout = upstream_gradient(dout, (N, F, Ho, Wo), cols_p.dtype, "LocallyConnected2d.forward")
        dout_p = dout.reshape(N, F, Ho * Wo).transpose(2, 0, 1)  # (P, N, F)
        w_p = self.weight.data.reshape(Ho * Wo, F, C * KH * KW)  # (P, F, C*KH*KW)
        self.weight.grad += (dout_p.transpose(0, 2, 1) @ cols_p).reshape(self.weight.shape)  # (P, F, C*KH*KW)
        self.bias.grad += dout.sum(axis=0)
        dcols = (dout_p @ w_p).transpose(1, 2, 0).reshape(N, C, KH * KW, Ho, Wo)  # (N, C, KH*KW, Ho, Wo)
        dxpad = xp.zeros(xpad_shape, dtype=dout.dtype)
        for k in range(KH * KW):  # col2im: one strided slice-add per kernel offset
            di, dj = divmod(k, KW)
            dxpad[:, :, window(di, Ho, S), window(dj, Wo, S)] += dcols[:, :, k]
        return dxpad[:, :, P:P + H, P:P + W]

    def extra_repr(self):
        kh, kw = self.kernel_size
        k = kh if kh == kw else self.kernel_size
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={k}, input_size={self.input_size}, "
                f"stride={self.stride}, padding={self.padding}")
