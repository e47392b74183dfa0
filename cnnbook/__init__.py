"""cnnbook: image classification with convolutional neural networks, a CS231n workbook.

Modules (dependencies run one way, left to right):
``backend`` <- ``layers`` <- ``nn`` <- ``optim`` / ``train``; ``data`` loads images;
``viz`` (matplotlib) and ``widgets`` (ipywidgets) sit at the edge and nothing in the core imports them.
Importing the package has no side effects.
"""
__version__ = "0.1.0"
