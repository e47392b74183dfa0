"""Optimizers: update rules that turn gradients into parameter changes.

One interface for all of them (as in CS231n's ``optim.py``, spelled as in PyTorch)::

    opt = Adam(model.parameters(), lr=1e-3, weight_decay=1e-4)
    for X_batch, y_batch in batches:
        opt.zero_grad()                       # gradients accumulate, so clear them first
        loss, dscores = softmax_cross_entropy(model(X_batch), y_batch)
        model.backward(dscores)               # fills p.grad for every parameter
        opt.step()                            # changes p.data in place

``params`` is a list of objects with ``.data`` and ``.grad`` arrays (:class:`cnnbook.nn.Parameter`).
Optimizer state (velocities, moments) lives on the parameters' backend, one entry per parameter,
in ``opt.state``. ``opt.lr`` may be changed between steps (a learning-rate schedule).

``weight_decay`` adds ``weight_decay * w`` to each gradient (L2 regularisation of strength
``weight_decay / 2``), for every parameter, biases included.

Update rules, with ``g = grad + weight_decay * w``:

* ``SGD``:                ``w -= lr * g``
* ``SGD(momentum=mu)``:   ``v = mu * v + g``; ``w -= lr * v`` (PyTorch's form; CS231n's
  ``v = mu * v - lr * g; w += v`` is the same for a constant ``lr``)
* ``SGD(momentum=mu, nesterov=True)``: ``v = mu * v + g``; ``w -= lr * (g + mu * v)``
* ``Adam``:  ``m = b1 * m + (1 - b1) * g``; ``v = b2 * v + (1 - b2) * g**2``;
  ``w -= lr * (m / (1 - b1**t)) / (sqrt(v / (1 - b2**t)) + eps)``
"""
from __future__ import annotations

from cnnbook import backend
from cnnbook.course.language import tr
from cnnbook.layers.checks import number


def _zeros(a):
    """Zeros like ``a``, on its backend (``zeros`` rather than ``zeros_like``: CuPy stand-ins differ there)."""
    return backend.get_array_module(a).zeros(a.shape, dtype=a.dtype)


class Optimizer:
    """Base class: keeps ``params``, ``lr``, ``weight_decay`` and per-parameter ``state``."""

    def __init__(self, params, lr, weight_decay=0.0):
        if hasattr(params, "parameters") and callable(params.parameters):
            raise TypeError(tr("pass model.parameters(), not the model itself"))
        self.params = list(params)
        if not self.params:
            raise ValueError(tr("the optimizer got an empty parameter list; pass model.parameters() of a model that "
                                "has learnable layers"))
        for i, p in enumerate(self.params):
            if not (hasattr(p, "data") and hasattr(p, "grad")):
                raise TypeError(tr("parameter {i} is a {kind} without .data and .grad; pass model.parameters()",
                                   i=i, kind=type(p).__name__))
        self.lr = number(lr, "lr", above=0)
        self.weight_decay = number(weight_decay, "weight_decay", minimum=0)
        self.state = [{} for _ in self.params]
        self.steps = 0

    def zero_grad(self) -> None:
        """Set every parameter's gradient to zero."""
        for p in self.params:
            p.grad[...] = 0

    def _gradient(self, p):
        return p.grad + self.weight_decay * p.data if self.weight_decay else p.grad

    def step(self) -> None:
        """Update every parameter in place from its ``.grad``."""
        self.steps += 1
        for p, state in zip(self.params, self.state):
            self._update(p, self._gradient(p), state)

    def _update(self, p, g, state) -> None:
        raise NotImplementedError

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if k not in ("params", "state", "steps"))
        return f"{type(self).__name__}({args})"


class SGD(Optimizer):
    """Stochastic gradient descent, with optional (Nesterov) momentum ``mu`` in ``[0, 1)``."""

    def __init__(self, params, lr=0.01, momentum=0.0, nesterov=False, weight_decay=0.0):
        super().__init__(params, lr, weight_decay)
        self.momentum = number(momentum, "momentum", minimum=0, below=1)
        if nesterov and self.momentum == 0:
            raise ValueError(tr("nesterov=True needs momentum > 0, e.g. SGD(params, lr, momentum=0.9, "
                                "nesterov=True)"))
        self.nesterov = bool(nesterov)

    def _update(self, p, g, state):
        if self.momentum:
            if "velocity" not in state:
                state["velocity"] = _zeros(p.data)
            v = state["velocity"]
            v *= self.momentum
            v += g
            g = g + self.momentum * v if self.nesterov else v
        p.data -= self.lr * g


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015): per-parameter step sizes from running moments of the gradient."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(params, lr, weight_decay)
        if not (isinstance(betas, (tuple, list)) and len(betas) == 2):
            raise ValueError(tr("betas={value} must be a pair (beta1, beta2), e.g. (0.9, 0.999)", value=repr(betas)))
        self.betas = tuple(number(beta, f"betas[{i}]", minimum=0, below=1) for i, beta in enumerate(betas))
        self.eps = number(eps, "eps", above=0)

    def _update(self, p, g, state):
        xp = backend.get_array_module(p.data)
        if "m" not in state:
            state["m"] = _zeros(p.data)
            state["v"] = _zeros(p.data)
        b1, b2 = self.betas
        m, v = state["m"], state["v"]
        m *= b1
        m += (1 - b1) * g
        v *= b2
        v += (1 - b2) * (g * g)
        step_size = self.lr / (1 - b1 ** self.steps)
        denom = xp.sqrt(v / (1 - b2 ** self.steps))
        denom += self.eps
        p.data -= step_size * (m / denom)
