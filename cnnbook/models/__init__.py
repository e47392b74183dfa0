"""The workbook's models, built from :mod:`cnnbook.nn`.

| module | what it holds |
| --- | --- |
| :mod:`cnnbook.models.reference` | ``linear_classifier``, ``two_layer_mlp``, ``reference_cnn`` |
| :mod:`cnnbook.models.attention` | self-attention and the transformer's MLP, with backward passes |
| :mod:`cnnbook.models.vit` | a tiny vision transformer |
| :mod:`cnnbook.models.measures` | measurements of trained models: filters, units (08, 12), attention distances (10) |
| :mod:`cnnbook.models.local` | ``LocallyConnected2d``, a convolution without weight sharing (notebook 09) |
| :mod:`cnnbook.models.blocks` | ``Concat`` and an Inception-style block (notebook 12) |
| :mod:`cnnbook.models.torch_port` | ``to_torch``, ``exercise_cnn``, ``require_torch`` (notebook 13) |

``reference_cnn`` is ``[CONV-RELU-POOL]x2 + FC``. ``to_torch`` gives a cnnbook model as ``torch.nn.Sequential``;
:mod:`~cnnbook.models.torch_port` imports PyTorch only when called, and is not imported here.

Models use the core (``backend``, ``layers``, ``nn``, which holds the layers they are built from, transformer ones
included: ``LayerNorm``, ``GELU``, ``TokenLinear``) and nothing above it.
"""
from cnnbook.models.reference import LAST_LAYER_SCALE, linear_classifier, reference_cnn, two_layer_mlp

__all__ = ["LAST_LAYER_SCALE", "linear_classifier", "two_layer_mlp", "reference_cnn"]
