"""Images for the workbook: Fashion-MNIST, sample photos, synthetic shapes, augmentation.

| module | what it holds |
| --- | --- |
| :mod:`cnnbook.data.fashion` | ``load_fashion_mnist``: the bundled subset, or the official files verified |
| :mod:`cnnbook.data.idx` | the IDX file format, read and checked (``DataError``) |
| :mod:`cnnbook.data.download` | downloads written to a temporary file, renamed only once verified |
| :mod:`cnnbook.data.images` | sample photos and faces from scikit-image; patch shuffles, rotations, scalings |
| :mod:`cnnbook.data.colour` | ``load_colour_patches``: RGB patches of six bundled colour photos, labelled by photo |
| :mod:`cnnbook.data.shapes` | seeded synthetic shapes with textures, for the controlled experiments |
| :mod:`cnnbook.data.augment` | random shifts and flips for training |

:func:`~cnnbook.data.fashion.class_name` names a Fashion-MNIST class in the learner's language.

The data room uses the core (``backend``) and nothing above it. Minibatches are the training
loop's job: :func:`cnnbook.train.iterate_minibatches`.
"""
from cnnbook.data.fashion import (
                                  FASHION_MNIST_CLASSES,
                                  MIRRORS,
                                  class_name,
                                  class_names,
                                  load_fashion_mnist,
                                  locate_fashion_mnist,
)
from cnnbook.data.idx import DataError

__all__ = ["FASHION_MNIST_CLASSES", "MIRRORS", "DataError", "class_name", "class_names", "load_fashion_mnist",
           "locate_fashion_mnist"]
