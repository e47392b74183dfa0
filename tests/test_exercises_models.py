"""The checks of notebooks 08, 10 and 11 accept right answers and explain plausible wrong ones in words.

Like tests/test_exercises.py: learner-style right answers pass on every backend, and each wrong answer with a
known mistake is rejected with the hint that names it.
"""
import numpy as np
import pytest
from exercise_helpers import rejects

from cnnbook import backend, exercises, layers
from cnnbook.models.vit import PatchEmbedding

gam = backend.get_array_module


# ---- learner-style right answers ---------------------------------------------------------------
def conv_param_count(in_channels, out_channels, kernel_size):
    return out_channels * (in_channels * kernel_size * kernel_size + 1)


def patchify(x, patch_size):
    N, C, H, W = x.shape
    P = patch_size
    if H % P or W % P:
        raise ValueError(f"{P}x{P} patches do not tile {H}x{W} images")
    patches = x.reshape(N, C, H // P, P, W // P, P).transpose(0, 2, 4, 1, 3, 5)  # (N, Gh, Gw, C, P, P)
    return patches.reshape(N, (H // P) * (W // P), C * P * P)


def patchify_loops(x, patch_size):
    xp, P = gam(x), patch_size
    N, C, H, W = x.shape
    if H % P or W % P:
        raise ValueError(f"{P}x{P} patches do not tile {H}x{W} images")
    out = xp.zeros((N, (H // P) * (W // P), C * P * P), dtype=x.dtype)
    for i in range(H // P):
        for j in range(W // P):
            out[:, i * (W // P) + j] = x[:, :, i * P:(i + 1) * P, j * P:(j + 1) * P].reshape(N, -1)
    return out


def cue_conflict_fraction(pred, shape_labels, texture_labels):
    conflict = shape_labels != texture_labels
    return (float((pred == shape_labels)[conflict].mean()), float((pred == texture_labels)[conflict].mean()))


RIGHT = [(exercises.check_conv_param_count, conv_param_count), (exercises.check_patchify, patchify),
         (exercises.check_patchify, patchify_loops),
         (exercises.check_cue_conflict_fraction, cue_conflict_fraction)]
IDS = ["conv_param_count", "patchify", "patchify_loops", "cue_conflict_fraction"]


# Right answers, the student stub, crashes and non-functions: tests/test_exercises.py runs its generic
# tests over these checks too (RIGHT is imported there).


# ---- 08: conv_param_count ----------------------------------------------------------------------
@pytest.mark.parametrize("wrong, hint", [
    (lambda C, F, K: F * C * K * K, "the biases are missing"),
    (lambda C, F, K: F * K * K + F, "spans all input channels"),
    (lambda C, F, K: F * C * K * K + 1, "not one per layer"),
    (lambda C, F, K: F * C * K * K + C, "out_channels biases, not in_channels"),
    (lambda C, F, K: F * C * K + F, "square the kernel size"),
    (lambda C, F, K: C * K * K + 1, "that is one filter's parameters"),
    (lambda C, F, K: F * C * K * K * 2, "(in_channels * K * K + 1) * out_channels"),
], ids=["no bias", "no input channels", "one bias", "bias per input channel", "kernel not squared",
        "one filter", "unrecognised"])
def test_conv_param_count_mistakes(wrong, hint):
    rejects(exercises.check_conv_param_count, wrong, hint)


def test_conv_param_count_wants_an_int():
    rejects(exercises.check_conv_param_count, lambda C, F, K: float(F * (C * K * K + 1)), "return an int")


def test_conv_param_count_agrees_with_the_modules():
    from cnnbook import nn
    for C, F, K in [(3, 96, 11), (8, 1, 3), (2, 5, 5)]:
        assert nn.Conv2d(C, F, K).num_parameters() == conv_param_count(C, F, K)


# ---- 10: patchify ------------------------------------------------------------------------------
def _reordered(axes):
    def wrong(x, P):
        N, C, H, W = x.shape
        return x.reshape(N, C, H // P, P, W // P, P).transpose(axes).reshape(N, (H // P) * (W // P), C * P * P)
    return wrong


@pytest.mark.parametrize("wrong, hints", [
    (lambda x, P: x.reshape(x.shape[0], (x.shape[2] // P) * (x.shape[3] // P), -1),
     ["reshape alone does not cut out patches", "not a P x P square", "reorder the axes"]),
    (_reordered((0, 4, 2, 1, 3, 5)), ["numbered column by column", "row by row"]),
    (_reordered((0, 2, 4, 1, 5, 3)), ["flattened column by column (transposed)"]),
    (_reordered((0, 2, 4, 3, 5, 1)), ["channels last"]),
    (_reordered((0, 4, 2, 1, 5, 3)), ["rows and columns are swapped everywhere"]),
    (lambda x, P: patchify(x, P).transpose(0, 2, 1), ["put the tokens first"]),
    (lambda x, P: x.reshape(x.shape[0], x.shape[1], x.shape[2] // P, P, x.shape[3] // P, P)
     .transpose(0, 2, 4, 1, 3, 5).reshape(x.shape[0], -1, x.shape[1], P, P), ["flatten each patch"]),
], ids=["reshape only", "column order", "transposed patch", "channels last", "transposed image",
        "(N, D, T)", "5-D"])
def test_patchify_mistakes(wrong, hints):
    message = rejects(exercises.check_patchify, wrong, *hints)
    assert "transpose(0, 2, 4, 1, 3, 5)" not in message and "reshape(N, C, H//P" not in message  # no solution line


def test_patchify_with_overlapping_patches_is_named():
    def overlapping(x, P):
        from numpy.lib.stride_tricks import sliding_window_view
        N, C, H, W = x.shape
        windows = sliding_window_view(backend.to_numpy(x), (P, P), axis=(2, 3))  # (N, C, H-P+1, W-P+1, P, P)
        return windows.transpose(0, 2, 3, 1, 4, 5).reshape(N, -1, C * P * P)
    rejects(exercises.check_patchify, overlapping, "the patches overlap", "step P pixels")


def test_patchify_numpy_result_for_device_input_is_named(xp):
    if xp is np:
        pytest.skip("NumPy is the device here")
    rejects(exercises.check_patchify, lambda x, P: backend.to_numpy(patchify(x, P)), "numpy array for")


def test_patchify_that_drops_pixels_fails_as_the_instructions_ask_for_a_value_error():
    def floors(x, P):
        N, C, H, W = x.shape
        return patchify(x[:, :, :H - H % P, :W - W % P], P)
    rejects(exercises.check_patchify, floors, "patchify(x (1, 1, 8, 10), 4) returned ndarray of shape (1, 4, 16)",
            "do not tile a width of 10", "Raise ValueError")

    def checks_the_width_only(x, P):
        if x.shape[3] % P:
            raise ValueError(f"{P} does not divide the width {x.shape[3]}")
        return floors(x, P)
    rejects(exercises.check_patchify, checks_the_width_only, "patchify(x (1, 1, 10, 8), 4)",
            "do not tile a height of 10")

    def type_error(x, P):
        if x.shape[2] % P or x.shape[3] % P:
            raise TypeError("patches do not fit")
        return patchify(x, P)
    rejects(exercises.check_patchify, type_error, "raised TypeError", "ask for a ValueError there")


def test_patchify_keeps_the_dtype():
    rejects(exercises.check_patchify, lambda x, P: patchify(x, P).astype("float32"),
            "the result has dtype float32, expected float64")


def test_patchify_is_the_vit_patch_embedding_without_its_weight():
    """The claim the notebook makes after the exercise: PatchEmbedding(x) == patchify(x) @ W.T + b."""
    rng = np.random.default_rng(0)
    embed = PatchEmbedding(3, 5, 4, rng=rng, dtype=np.float64)
    embed.bias.data[:] = rng.standard_normal(5)
    x = rng.standard_normal((2, 3, 8, 12))
    tokens = patchify(x, 4) @ embed.weight.data.reshape(5, -1).T + embed.bias.data  # (2, 6, 5)
    assert np.allclose(tokens, embed(x))
    out, _ = layers.conv2d_forward(x, embed.weight.data, embed.bias.data, stride=4)
    assert np.allclose(tokens, out.reshape(2, 5, 6).transpose(0, 2, 1))


# ---- 11: cue_conflict_fraction -----------------------------------------------------------------
def _shape_hits(pred, s, t):
    conflict = s != t
    return int((pred == s)[conflict].sum()), int((pred == t)[conflict].sum()), int(conflict.sum())


@pytest.mark.parametrize("wrong, hint", [
    (lambda p, s, t: (float((p == s).mean()), float((p == t).mean())), "count only the conflict images"),
    (lambda p, s, t: (_shape_hits(p, s, t)[0] / p.size, _shape_hits(p, s, t)[1] / p.size),
     "not by the number of all images"),
    (lambda p, s, t: cue_conflict_fraction(p, s, t)[::-1], "the two fractions are swapped"),
    (lambda p, s, t: _shape_hits(p, s, t)[:2], "those are counts"),
    (lambda p, s, t: tuple(100 * f for f in cue_conflict_fraction(p, s, t)), "not percentages"),
    (lambda p, s, t: (lambda a, b, n: (a / (a + b), b / (a + b)))(*_shape_hits(p, s, t)), "shape bias"),
    (lambda p, s, t: (0.5, 0.5), "keep the images with shape_labels != texture_labels"),
], ids=["all images", "divided by all", "swapped", "counts", "percent", "shape bias", "unrecognised"])
def test_cue_conflict_mistakes(wrong, hint):
    rejects(exercises.check_cue_conflict_fraction, wrong, hint)


def test_cue_conflict_wants_two_numbers():
    rejects(exercises.check_cue_conflict_fraction, lambda p, s, t: cue_conflict_fraction(p, s, t)[0],
            "return two numbers: (shape_fraction, texture_fraction)")
    rejects(exercises.check_cue_conflict_fraction, lambda p, s, t: None, "returned None")
    message = rejects(exercises.check_cue_conflict_fraction, lambda p, s, t: (p == s, p == t), "return one number")
    assert "(pred == shape_labels)[conflict]" not in message  # a hint, not the solution line


def test_cue_conflict_that_changes_its_input_is_named():
    def zeroes_agreeing(p, s, t):
        result = cue_conflict_fraction(p, s, t)
        p[s == t] = -1
        return result
    rejects(exercises.check_cue_conflict_fraction, zeroes_agreeing, "changed its input pred in place")


def test_cue_conflict_accepts_device_scalars(xp):
    def device_means(p, s, t):
        conflict = s != t
        return (p == s)[conflict].mean(), (p == t)[conflict].mean()  # 0-d arrays of the input's backend
    assert exercises.check_cue_conflict_fraction(device_means) is device_means
