"""Helpers shared by the layer tests: random arrays on a backend, and random conv geometries that fit."""
import numpy as np

from cnnbook import backend


def randn(xp, rng, *shape, dtype=np.float64):
    """Standard-normal array of ``shape`` on backend ``xp`` (drawn on the host from ``rng``)."""
    return backend.to_device(rng.standard_normal(shape).astype(dtype), xp)


def random_conv_case(rng, max_stride=3, max_padding=2, max_kernel=(3, 4), max_out=3):
    """A random conv geometry whose sizes fit exactly: dict with x/w shapes, stride and padding pairs."""
    N, C, F = rng.integers(1, 3), rng.integers(1, 4), rng.integers(1, 4)
    KH, KW = rng.integers(1, max_kernel[0] + 1), rng.integers(1, max_kernel[1] + 1)
    SH, SW = rng.integers(1, max_stride + 1, size=2)
    PH, PW = rng.integers(0, max_padding + 1, size=2)
    # Choose the output size, then the input size that gives it exactly; grow until the input is >= 1.
    Ho, Wo = rng.integers(1, max_out + 1, size=2)
    while (Ho - 1) * SH + KH - 2 * PH < 1:
        Ho += 1
    while (Wo - 1) * SW + KW - 2 * PW < 1:
        Wo += 1
    H, W = (Ho - 1) * SH + KH - 2 * PH, (Wo - 1) * SW + KW - 2 * PW
    return dict(x=(int(N), int(C), int(H), int(W)), w=(int(F), int(C), int(KH), int(KW)),
                stride=(int(SH), int(SW)), padding=(int(PH), int(PW)), out=(int(N), int(F), int(Ho), int(Wo)))
