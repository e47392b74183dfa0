"""``cnnbook.nn``: layers with parameters and a cache, stacked into models (named as in PyTorch).

Each module wraps a forward/backward pair of :mod:`cnnbook.layers`::

    model = Sequential(Conv2d(1, 16, 3, padding=1, rng=0), ReLU(), MaxPool2d(2),
                       Flatten(), Linear(16 * 14 * 14, 10, rng=1))
    scores = model(X)                       # (N, 1, 28, 28) -> (N, 10)
    loss, dscores = softmax_cross_entropy(scores, y)
    model.zero_grad()
    dx = model.backward(dscores)            # (N, 1, 28, 28); fills every p.grad
    for p in model.parameters(): ...        # Parameter objects: p.data, p.grad

The interface every module offers
---------------------------------
``module(x)``
    runs ``forward(x)`` and keeps what backward needs in ``self._cache`` (overwritten on every
    call, never appended to: backward always belongs to the latest forward).
``module.backward(dout) -> dx``
    ``dout`` has the shape of the latest output, ``dx`` that of the latest input. Parameter
    gradients are **added** to ``p.grad`` (as in PyTorch), so call ``zero_grad()`` (or the
    optimizer's) before each backward pass.
``module.backward_params(dout)``
    the same parameter gradients without the gradient for the input (returns ``None``): what ``fit``
    runs, since nothing uses the gradient for the images; a ``Sequential`` skips the layers before its
    first one with parameters, and a first ``Conv2d`` skips about half its backward pass. By default
    a module runs ``backward`` and drops ``dx``.
``parameters()`` / ``named_parameters()``
    the :class:`Parameter` objects of the module and its children, in definition order, each once;
    names look like ``"0.weight"`` (``Sequential`` children are numbered).
``train()`` / ``eval()``
    set ``module.training`` on the module and all children (no layer here behaves differently
    yet, but dropout or batch norm written later can read the flag).
``zero_grad()``, ``state_dict()`` / ``load_state_dict(state)``, ``save(path)`` / ``load(path)``
    (``.npz`` files, see :mod:`cnnbook.serialize`), ``to(dtype=None, backend_name=None)``.

Writing a new module
--------------------
Subclass :class:`Module`, store :class:`Parameter`, :class:`Module` or lists of modules as
attributes in ``__init__`` (they are found automatically; no registration call), and define
``forward(x)`` and ``backward(dout)``::

    class Scale(Module):
        def __init__(self, value):
            self.value = value
        def forward(self, x):
            return x * self.value
        def backward(self, dout):
            return dout * self.value

Initialisation and backends
---------------------------
Weights use He (Kaiming) normal initialisation, ``std = sqrt(2 / fan_in)``, unless ``weight_scale``
gives the standard deviation (CS231n's name; the models use a small one for the last layer so that
the initial loss is close to ``ln(num_classes)``). Biases start at zero.
The random numbers come from a host ``numpy.random.Generator`` (``rng``: an int seed, a Generator,
or ``None`` for fresh entropy) and go to the default backend (:func:`cnnbook.backend.default_xp`),
so the same seed gives the same model on NumPy and CuPy. Parameters are float32 unless ``dtype`` says
otherwise; ``model.to(dtype=np.float64)`` converts a whole model for gradient checks.

Layout: :mod:`cnnbook.nn.base` (``Parameter``, ``Module``, the parameter initialisers
``init_parameter``/``normal_parameter``/``zeros_parameter``/``full_parameter`` and ``check_float_input``, which
layers written elsewhere reuse), :mod:`cnnbook.nn.modules` (the layers), :mod:`cnnbook.nn.tokens` (layers over
token sequences ``(N, T, D)``: ``TokenLinear``, ``LayerNorm``), :mod:`cnnbook.nn.summary` (``summary``).
Import the modules from ``cnnbook.nn``.
"""
from cnnbook.nn.base import Module, Parameter
from cnnbook.nn.modules import GELU, AvgPool2d, Conv2d, Flatten, GlobalAvgPool2d, Linear, MaxPool2d, ReLU, Sequential
from cnnbook.nn.summary import Summary, summary
from cnnbook.nn.tokens import LayerNorm, TokenLinear

__all__ = ["Module", "Parameter", "Conv2d", "Linear", "ReLU", "GELU", "MaxPool2d", "AvgPool2d",
           "GlobalAvgPool2d", "Flatten", "Sequential", "LayerNorm", "TokenLinear", "Summary", "summary"]
