"""Check for notebook 13: port a small cnnbook model to ``torch.nn``, checked by equal outputs.

The learner writes ``port_to_torch(model) -> torch.nn.Sequential`` for models of the architecture of
:func:`cnnbook.models.torch_port.exercise_cnn`. The check ports hidden models of that architecture (other
weights, biases that are not zero), runs both on the same images and compares the outputs. Before that it looks
at the layers one by one, so a wrong layer, a wrong size or a weight copied the wrong way is named in words.
"""
from __future__ import annotations

import numpy as np

from cnnbook import backend
from cnnbook.course.exercises._common import ExerciseError, call, device, passed, require_callable
from cnnbook.course.language import tr
from cnnbook.models.torch_port import exercise_cnn, require_torch
from cnnbook.nn import AvgPool2d, Conv2d, Flatten, Linear, MaxPool2d, ReLU

_TORCH_NAMES = {Conv2d: "Conv2d", Linear: "Linear", ReLU: "ReLU", MaxPool2d: "MaxPool2d", AvgPool2d: "AvgPool2d",
                Flatten: "Flatten"}


def _sizes(layer) -> tuple:
    """What fixes a layer's output size, as ``torch.nn`` spells it."""
    if isinstance(layer, Conv2d):
        return layer.in_channels, layer.out_channels, layer.kernel_size, (layer.stride,) * 2, (layer.padding,) * 2
    if isinstance(layer, Linear):
        return layer.in_features, layer.out_features
    if isinstance(layer, (MaxPool2d, AvgPool2d)):
        return layer.kernel_size, layer.stride or layer.kernel_size
    return ()


def _torch_sizes(module) -> tuple:
    def pair(v):
        return tuple(v) if isinstance(v, (tuple, list)) else (v, v)
    name = type(module).__name__
    if name == "Conv2d":
        return (module.in_channels, module.out_channels, pair(module.kernel_size), pair(module.stride),
                pair(module.padding))
    if name == "Linear":
        return module.in_features, module.out_features
    if name in ("MaxPool2d", "AvgPool2d"):
        kernel = module.kernel_size if isinstance(module.kernel_size, int) else module.kernel_size[0]
        stride = module.stride if isinstance(module.stride, int) else (module.stride or (kernel,))[0]
        return kernel, stride or kernel
    return ()


def _host(torch, tensor) -> np.ndarray:
    return tensor.detach().cpu().numpy()


def _check_layers(torch, ported, model, text: str) -> None:
    """Name the first layer whose kind, size or weights differ from ``model``'s."""
    got = list(ported)
    if len(got) != len(model):
        raise ExerciseError(tr("{call} returned an nn.Sequential of {got} layers; the cnnbook model has {want} "
                               "({names}): port them one for one, in order",
                               call=text, got=len(got), want=len(model),
                               names=", ".join(_TORCH_NAMES[type(m)] for m in model)))
    for i, (mine, theirs) in enumerate(zip(got, model)):
        want = _TORCH_NAMES[type(theirs)]
        if type(mine).__name__ != want or not isinstance(mine, torch.nn.Module):
            raise ExerciseError(tr("{call}: layer {i} is {got}, but layer {i} of the cnnbook model is {want}; use "
                                   "nn.{want}", call=text, i=i, got=type(mine).__name__, want=want))
        if _torch_sizes(mine) != _sizes(theirs):
            raise ExerciseError(tr("{call}: layer {i} is nn.{kind} with sizes {got}, the cnnbook layer has {want} "
                                   "({layer}): copy in and out channels, kernel_size, stride and padding",
                                   call=text, i=i, kind=want, got=_torch_sizes(mine), want=_sizes(theirs),
                                   layer=repr(theirs)))
        if isinstance(theirs, (Conv2d, Linear)):
            _check_weights(torch, mine, theirs, i, text)


def _check_weights(torch, mine, theirs, i: int, text: str) -> None:
    w = backend.to_numpy(theirs.weight.data)
    b = backend.to_numpy(theirs.bias.data)
    want_w = w.T if isinstance(theirs, Linear) else w        # torch's Linear keeps (out_features, in_features)
    got_w, got_b = _host(torch, mine.weight), _host(torch, mine.bias)
    if isinstance(theirs, Linear) and got_w.shape == w.shape and got_w.shape != want_w.shape:
        raise ExerciseError(tr("{call}: layer {i}'s weight has shape {got}, cnnbook's layout: nn.Linear keeps its "
                               "weight as (out_features, in_features) = {want}, the transpose; copy w.T",
                               call=text, i=i, got=got_w.shape, want=want_w.shape))
    if got_w.shape != want_w.shape or got_b.shape != b.shape:
        raise ExerciseError(tr("{call}: layer {i}'s weight and bias have shapes {got_w} and {got_b}, expected {want_w} "
                               "and {want_b}", call=text, i=i, got_w=got_w.shape, got_b=got_b.shape,
                               want_w=want_w.shape, want_b=b.shape))
    if isinstance(theirs, Linear) and np.allclose(got_w, w.reshape(want_w.shape), atol=1e-6) \
            and not np.allclose(got_w, want_w, atol=1e-6):
        raise ExerciseError(tr("{call}: layer {i}'s weight is cnnbook's weight reshaped to {shape}; a reshape "
                               "keeps the numbers in memory order, a transpose swaps the axes: copy w.T",
                               call=text, i=i, shape=want_w.shape))
    if not np.allclose(got_w, want_w, rtol=1e-6, atol=1e-7):
        raise ExerciseError(tr("{call}: layer {i}'s weight is not the cnnbook layer's: copy it into the PyTorch "
                               "layer (a new nn.{kind} starts from random weights of its own)",
                               call=text, i=i, kind=type(mine).__name__))
    if not np.allclose(got_b, b, rtol=1e-6, atol=1e-7):
        raise ExerciseError(tr("{call}: layer {i}'s weight is right but its bias is not the cnnbook layer's: copy "
                               "the bias too", call=text, i=i))
    for name, tensor, array in (("weight", mine.weight, theirs.weight.data), ("bias", mine.bias, theirs.bias.data)):
        if backend.get_array_module(array) is np and np.shares_memory(_host(torch, tensor), array):  # host only
            raise ExerciseError(tr("{call}: layer {i}'s {name} shares its memory with the cnnbook model's array "
                                   "(torch.from_numpy does not copy), so training one model would change the "
                                   "other; give the port its own copy: torch.tensor(...) or .copy_(...)",
                                   call=text, i=i, name=name))


def check_port_to_torch(port_to_torch) -> bool:
    """Check ``port_to_torch(model) -> torch.nn.Sequential``: the same layers as ``model`` (a cnnbook model of
    the exercise's architecture), with a copy of its weights, giving the same outputs."""
    require_callable(port_to_torch, "check_port_to_torch", "port_to_torch(model)")
    torch = require_torch()
    rng = np.random.default_rng(20261206)
    cases = [(tr("the exercise's CNN with other weights, 4 random images"), 101, 4),
             (tr("other weights again, 1 image"), 202, 1),
             (tr("a third set of weights, 16 images"), 303, 16)]
    for _, seed, N in cases:
        model = exercise_cnn(seed=seed)                       # on the default backend, as the learner's is
        x_h = rng.uniform(0, 1, size=(N, 1, 28, 28)).astype(np.float32)
        text = f"port_to_torch(exercise_cnn(seed={seed}))"
        ported = call(port_to_torch, text, model)
        if ported is None:
            raise ExerciseError(tr("{call} returned None: end with `return` and the nn.Sequential you built",
                                   call=text))
        if not isinstance(ported, torch.nn.Sequential):
            raise ExerciseError(tr("{call} returned a {kind}; return a torch.nn.Sequential of the ported layers",
                                   call=text, kind=type(ported).__name__))
        _check_layers(torch, ported, model, text)
        try:
            with torch.no_grad():
                out = _host(torch, ported(torch.from_numpy(x_h)))
        except Exception as exc:
            raise ExerciseError(tr("{call}: running the port on images of shape {shape} raised {error}: {message}",
                                   call=text, shape=x_h.shape, error=type(exc).__name__, message=exc)) from exc
        want = backend.to_numpy(model(device(x_h)))
        if out.shape != want.shape:
            raise ExerciseError(tr("{call}: the port gives outputs of shape {got}, the cnnbook model {want}",
                                   call=text, got=out.shape, want=want.shape))
        gap = float(np.abs(out.astype(np.float64) - want).max())
        if not gap <= 1e-4 * max(1.0, float(np.abs(want).max())):
            raise ExerciseError(tr("{call}: the port's outputs differ from the cnnbook model's by up to {gap:.3g}; "
                                   "the layers and weights look right, so look at what the port does between them",
                                   call=text, gap=gap))
    return passed("port_to_torch", [c[0] for c in cases])


__all__ = ["check_port_to_torch"]
