"""Checks for notebooks 08, 10 and 11: a conv layer's parameter count, ViT patches, the cue-conflict test."""
from __future__ import annotations

import numpy as np

from cnnbook import backend
from cnnbook.course.exercises import references
from cnnbook.course.exercises._common import (
    ExerciseError,
    call,
    close,
    compare_array,
    describe_call,
    device,
    explain,
    passed,
    require_array,
    require_callable,
    require_count,
    require_unchanged,
    rng_for,
)
from cnnbook.course.language import tr


# ---- 08: parameters of a conv layer ------------------------------------------------------------
def _param_mistakes():
    """Plausible wrong counts, as functions of (C, F, K), with what to tell the learner."""
    return [
        (lambda C, F, K: F * C * K * K, tr("the biases are missing: each of the out_channels filters has one bias, "
                                           "so add out_channels")),
        (lambda C, F, K: F * K * K + F, tr("each filter spans all input channels: it holds in_channels * K * K "
                                           "weights, not K * K")),
        (lambda C, F, K: F * K * K, tr("each filter holds in_channels * K * K weights (it spans all input "
                                       "channels), plus one bias")),
        (lambda C, F, K: F * C * K * K + 1, tr("there is one bias per filter (out_channels of them), not one per "
                                               "layer")),
        (lambda C, F, K: F * C * K * K + C, tr("there is one bias per filter, so out_channels biases, not "
                                               "in_channels")),
        (lambda C, F, K: F * C * K + F, tr("a K x K kernel has K * K weights per input channel: square the kernel "
                                           "size")),
        (lambda C, F, K: C * K * K + 1, tr("that is one filter's parameters; the layer has out_channels filters")),
    ]


def check_conv_param_count(conv_param_count) -> bool:
    """Check ``conv_param_count(in_channels, out_channels, kernel_size) -> int``: weights plus biases."""
    require_callable(conv_param_count, "check_conv_param_count",
                     "conv_param_count(in_channels, out_channels, kernel_size)")
    cases = [(tr("AlexNet's first layer: 3 -> 96, 11x11"), (3, 96, 11)),
             (tr("a VGG layer: 64 -> 128, 3x3"), (64, 128, 3)),
             (tr("a 1x1 bottleneck: 256 -> 64"), (256, 64, 1)),
             (tr("a ResNet stem: 3 -> 64, 7x7"), (3, 64, 7)),
             (tr("a single 3x3 filter over 8 channels"), (8, 1, 3)),
             (tr("2 -> 5 channels, 5x5"), (2, 5, 5))]
    results = []
    for _, (C, F, K) in cases:
        text = describe_call("conv_param_count", C, F, K)
        got = require_count(call(conv_param_count, text, C, F, K), text, tr("the parameter count"))
        want = F * C * K * K + F  # the weight (F, C, K, K) and the bias (F,) of nn.Conv2d(C, F, K)
        results.append((text, got, want, (C, F, K)))
    explain(results, _param_mistakes(), tr("a conv layer has out_channels filters, each with in_channels * K * K "
                                           "weights and one bias: (in_channels * K * K + 1) * out_channels"))
    return passed("conv_param_count", [c[0] for c in cases])


# ---- 10: cutting images into ViT patches -------------------------------------------------------
def _patches(x_h: np.ndarray, P: int, order: str) -> np.ndarray:
    """Host ``(N, T, C*P*P)`` patches of ``x_h`` as one plausible mistake makes them."""
    N, C, H, W = x_h.shape
    Gh, Gw = H // P, W // P
    grid = x_h.reshape(N, C, Gh, P, Gw, P)  # (N, C, Gh, P, Gw, P): row of the grid, row in the patch, ...
    axes = {"column_order": (0, 4, 2, 1, 3, 5),    # patches numbered column by column (right: 0, 2, 4, 1, 3, 5)
            "transposed_patch": (0, 2, 4, 1, 5, 3),  # a patch flattened column by column
            "channels_last": (0, 2, 4, 3, 5, 1),   # a patch flattened (P, P, C)
            "transposed_image": (0, 4, 2, 1, 5, 3)}[order]
    return grid.transpose(axes).reshape(N, Gh * Gw, C * P * P)


def check_patchify(patchify) -> bool:
    """Check ``patchify(x, patch_size) -> (N, T, C*P*P)``: non-overlapping patches, row by row, each flattened
    as ``(C, P, P)``."""
    require_callable(patchify, "check_patchify", "patchify(x, patch_size)")
    rng = rng_for("patchify")
    cases = [(tr("28x28 grey images in 7x7 patches, as the ViT"), (2, 1, 28, 28), 7),
             (tr("8x12 RGB images in 4x4 patches (a 2x3 grid)"), (2, 3, 8, 12), 4),
             (tr("6x9 two-channel images in 3x3 patches"), (1, 2, 6, 9), 3),
             (tr("1x1 patches: every pixel a token"), (2, 3, 3, 4), 1),
             (tr("one patch covering the whole image"), (3, 2, 5, 5), 5)]
    for _, shape, P in cases:
        N, C, H, W = shape
        x_h = rng.standard_normal(shape)
        x = device(x_h)
        text = describe_call("patchify", ("x", x), P)
        out = require_array(call(patchify, text, x, P), text, tr("the patches"), x)
        require_unchanged(x_h, x, text, "x")
        T, D = (H // P) * (W // P), C * P * P
        mistakes = [
            ((N, D, T), tr("put the tokens first, (N, T, C*P*P): one row per patch (transpose the last two "
                           "axes)")),
            ((N, T, C, P, P), tr("flatten each patch into one vector of C*P*P numbers")),
            ((N, H // P, W // P, D), tr("merge the patch grid into one token axis: T = (H / P) * (W / P)")),
            ((N, C, T, P * P), tr("a token holds all channels of its patch: (N, T, C*P*P), channels inside the "
                                  "token")),
            ((N, (H - P + 1) * (W - P + 1), D), tr("the patches overlap: a ViT's patches do not, step P pixels at "
                                                   "a time, not 1")),
            (x_h.reshape(N, T, D), tr("reshape alone does not cut out patches: P*P numbers next to each other in "
                                      "memory are a piece of one image row, not a P x P square. Give the grid row "
                                      "and the row inside a patch their own axes (and likewise the columns), then "
                                      "reorder the axes so that the two grid axes come right after N and the "
                                      "channel and in-patch axes last, before the final reshape")),
            (_patches(x_h, P, "transposed_image"), tr("rows and columns are swapped everywhere: in (N, C, H, W), "
                                                      "H (rows) is axis 2 and W (columns) axis 3")),
            (_patches(x_h, P, "column_order"), tr("the patches are numbered column by column; number them row by "
                                                  "row (left to right, then top to bottom), token = row * (W/P) + "
                                                  "col, the order the ViT's strided convolution gives")),
            (_patches(x_h, P, "transposed_patch"), tr("each patch is flattened column by column (transposed); "
                                                      "flatten it row by row, (C, P, P) with the row index before "
                                                      "the column index, as the conv weight (D, C, P, P) is "
                                                      "flattened")),
            (_patches(x_h, P, "channels_last"), tr("each patch is flattened (P, P, C), channels last; flatten it as "
                                                   "(C, P, P), channel first, as the conv weight (D, C, P, P) is")),
        ]
        compare_array(out, references.patchify(x, P), text, tr("the result"), mistakes,
                      fallback=tr("token t = i * (W/P) + j holds the P x P patch whose top-left corner is at row "
                                  "i * P, column j * P, all channels, flattened (C, P, P)"))
    misfits = [(tr("4x4 patches on a width of 10: ValueError"), (1, 1, 8, 10)),
               (tr("4x4 patches on a height of 10: ValueError"), (1, 1, 10, 8))]
    for _, shape in misfits:
        _require_misfit_error(patchify, device(rng.standard_normal(shape)), 4)
    return passed("patchify", [c[0] for c in cases + misfits])


def _require_misfit_error(patchify, x, P: int) -> None:
    """The instructions: raise ValueError when P does not divide H or W (a result there drops or invents pixels)."""
    _, _, H, W = x.shape
    text = describe_call("patchify", ("x", x), P)
    side = tr("a width of {W}", W=W) if W % P else tr("a height of {H}", H=H)
    try:
        out = patchify(x, P)
    except NotImplementedError:
        raise
    except ValueError:
        return
    except Exception as exc:
        raise ExerciseError(tr("{call} raised {error}; {P}x{P} patches do not tile {side}, and the instructions ask "
                               "for a ValueError there", call=text, error=type(exc).__name__, P=P,
                               side=side)) from exc
    raise ExerciseError(tr("{call} returned {kind} of shape {shape}, but {P}x{P} patches do not tile {side}: the "
                           "pixels left over were dropped (or made up). Raise ValueError when H or W is not a "
                           "multiple of patch_size, as the instructions ask", call=text, kind=type(out).__name__,
                           shape=tuple(np.shape(out)), P=P, side=side))


# ---- 11: the cue-conflict test -----------------------------------------------------------------
def _fraction(value, text: str, which: str) -> float:
    try:
        host = backend.to_numpy(value)
    except Exception:
        raise ExerciseError(tr("{call}: {which} is a {kind}; return a number",
                               call=text, which=which, kind=type(value).__name__)) from None
    if host.size != 1 or host.dtype.kind not in "biuf":
        raise ExerciseError(tr("{call}: {which} is {kind} of shape {shape}; return one number, the mean over "
                               "the conflict images (float(...) turns a one-element array into a number)",
                               call=text, which=which, kind=type(value).__name__, shape=host.shape))
    return float(host.reshape(()))


def _fractions(result, text: str) -> tuple:
    if result is None:
        raise ExerciseError(tr("{call} returned None; end with `return shape_fraction, texture_fraction`",
                               call=text))
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        if isinstance(result, (tuple, list)):
            raise ExerciseError(tr("{call} returned a {kind} of {count} items; return two numbers: "
                                   "(shape_fraction, texture_fraction)",
                                   call=text, kind=type(result).__name__, count=len(result)))
        raise ExerciseError(tr("{call} returned a {kind}; return two numbers: (shape_fraction, texture_fraction)",
                               call=text, kind=type(result).__name__))
    return _fraction(result[0], text, "shape_fraction"), _fraction(result[1], text, "texture_fraction")


def _cue_mistakes(pred, s, t):
    """``(answer, hint)`` for plausible wrong versions of the cue-conflict fractions (host arrays)."""
    conflict = s != t
    n = int(conflict.sum())
    shape_hits, texture_hits = int((pred == s)[conflict].sum()), int((pred == t)[conflict].sum())
    right = (shape_hits / n, texture_hits / n)
    either = shape_hits + texture_hits
    return [
        ((float(np.mean(pred == s)), float(np.mean(pred == t))),
         tr("count only the conflict images, where shape_labels != texture_labels: on an image whose cues agree, "
            "a prediction matches both and says nothing about which cue the network followed")),
        ((shape_hits / pred.size, texture_hits / pred.size),
         tr("divide by the number of conflict images, not by the number of all images")),
        ((right[1], right[0]), tr("the two fractions are swapped: return (shape_fraction, texture_fraction)")),
        ((float(shape_hits), float(texture_hits)),
         tr("those are counts; divide them by the number of conflict images to get fractions")),
        ((100 * right[0], 100 * right[1]), tr("return fractions between 0 and 1, not percentages")),
        ((shape_hits / max(either, 1), texture_hits / max(either, 1)),
         tr("divide by the number of conflict images, not by the number that follow one of the two cues (that "
            "ratio is Geirhos et al.'s shape bias, a different measure); 'neither' answers count in the "
            "denominator")),
    ]


def _cue_case(rng, n: int, num_classes: int, n_conflict: int, p_shape: float, p_texture: float):
    """Host ``(pred, shape_labels, texture_labels)``: ``n_conflict`` of ``n`` images in conflict."""
    s = rng.integers(0, num_classes, size=n)
    t = s.copy()
    conflict = rng.permutation(n)[:n_conflict]
    t[conflict] = (s[conflict] + rng.integers(1, num_classes, size=n_conflict)) % num_classes
    follow = rng.choice(3, size=n, p=[p_shape, p_texture, 1 - p_shape - p_texture])
    other = rng.integers(0, num_classes, size=n)  # an answer that may follow neither cue
    pred = np.where(follow == 0, s, np.where(follow == 1, t, other))
    return pred, s, t


def check_cue_conflict_fraction(cue_conflict_fraction) -> bool:
    """Check ``cue_conflict_fraction(pred, shape_labels, texture_labels) -> (shape_fraction, texture_fraction)``:
    among the images whose shape and texture labels differ, the fraction predicted as the shape and as the
    texture."""
    require_callable(cue_conflict_fraction, "check_cue_conflict_fraction",
                     "cue_conflict_fraction(pred, shape_labels, texture_labels)")
    rng = rng_for("cue_conflict_fraction")
    cases = [(tr("40 images, 24 in conflict"), (40, 4, 24, 0.3, 0.5)),
             (tr("all 30 images in conflict"), (30, 4, 30, 0.2, 0.6)),
             (tr("10 classes, 9 conflicts among 50"), (50, 10, 9, 0.4, 0.3)),
             (tr("a network that never follows the texture"), (25, 4, 15, 0.6, 0.0)),
             (tr("one conflict image among 12"), (12, 3, 1, 0.0, 1.0))]
    results = []
    for _, params in cases:
        pred_h, s_h, t_h = _cue_case(rng, *params)
        pred, s, t = device(pred_h), device(s_h), device(t_h)
        text = describe_call("cue_conflict_fraction", ("pred", pred), ("shape_labels", s), ("texture_labels", t))
        got = _fractions(call(cue_conflict_fraction, text, pred, s, t), text)
        for before, after, label in [(pred_h, pred, "pred"), (s_h, s, "shape_labels"), (t_h, t, "texture_labels")]:
            require_unchanged(before, after, text, label)
        conflict = s_h != t_h
        want = (float(np.mean((pred_h == s_h)[conflict])), float(np.mean((pred_h == t_h)[conflict])))
        results.append((text, got, want, _cue_mistakes(pred_h, s_h, t_h)))
    wrong = [r for r in results if not close(r[1], r[2])]
    if wrong:
        # The hint of the mistake that reproduces every answer; one case alone can be ambiguous.
        num_mistakes = len(results[0][3])
        hint = next((results[0][3][i][1] for i in range(num_mistakes)
                     if all(close(got, mistakes[i][0]) for _, got, _, mistakes in results)), None)
        text, got, want, mistakes = wrong[0]
        if hint is None:
            hint = next((h for answer, h in mistakes if close(got, answer)),
                        tr("keep the images with shape_labels != texture_labels, then take the mean of "
                           "pred == shape_labels and of pred == texture_labels over them"))
        raise ExerciseError(tr("{call} returned ({shape:.4g}, {texture:.4g}), expected ({want_shape:.4g}, "
                               "{want_texture:.4g}): {hint}", call=text, shape=got[0], texture=got[1],
                               want_shape=want[0], want_texture=want[1], hint=hint))
    return passed("cue_conflict_fraction", [c[0] for c in cases])


__all__ = ["check_conv_param_count", "check_patchify", "check_cue_conflict_fraction"]
