"""cnnbook: image classification with convolutional neural networks, a CS231n workbook.

Rooms by job (dependencies run one way, from the core up):

* the core: ``backend`` <- ``layers`` <- ``nn`` <- ``optim`` / ``train``, with ``gradcheck`` and ``serialize``;
* ``data`` (Fashion-MNIST, photos, shapes, augmentation) and ``models`` (the workbook's models, the tiny ViT),
  which use the core;
* ``course`` (exercise checks, the student edition), which uses the core, ``data`` and ``models``;
* the edges: ``explore``, ``viz`` (matplotlib), ``widgets`` (ipywidgets) and ``commands`` (``python -m cnnbook``);
  nothing below them imports them.

Importing the package has no side effects.
"""
__version__ = "0.1.0"
