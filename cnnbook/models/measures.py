"""Measurements of learned weights that more than one notebook uses (08 and 12): one definition each."""
from __future__ import annotations

import numpy as np

from cnnbook.backend import to_numpy


def neighbour_correlation(w) -> float:
    """Pearson correlation between each filter weight and its right and its lower neighbour.

    ``w`` is ``(F, C, KH, KW)`` (NumPy or CuPy). The pairs ``(w[..., i, j], w[..., i, j + 1])`` and
    ``(w[..., i, j], w[..., i + 1, j])`` of every filter and channel are pooled and correlated once, with
    the mean over all pairs (not each filter's own mean) removed. Independent random weights give about 0;
    smooth filters (blobs, ramps, edges wider than a pixel), whose neighbours are alike, give values near 1;
    a checkerboard gives -1.
    """
    w = np.asarray(to_numpy(w), dtype=np.float64)
    if w.ndim != 4 or w.shape[2] < 2 or w.shape[3] < 2:
        raise ValueError(f"w has shape {w.shape}; expected (F, C, KH, KW) filters with KH, KW >= 2")
    first = np.concatenate([w[..., :, :-1].ravel(), w[..., :-1, :].ravel()])
    second = np.concatenate([w[..., :, 1:].ravel(), w[..., 1:, :].ravel()])
    if first.std() == 0 or second.std() == 0:
        raise ValueError("w is constant along its neighbours, so their correlation is undefined; "
                         "pass filters whose weights vary")
    return float(np.corrcoef(first, second)[0, 1])
