#!/usr/bin/env bash
# Download, here (with PyPI), the wheels the GPU machine lacks, into .whl/ (ignored by git), for
# tools/gpu_check.sh. The GPU machine runs Python 3.12 with CuPy, NumPy, PyTorch, matplotlib,
# scikit-image, tqdm, pytest, pytest-xdist and hypothesis already installed: those are dropped so
# the machine's own builds (matched to its CUDA) stay in use.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf .whl && mkdir -p .whl
python3 -m pip download -q --only-binary=:all: --python-version 3.12 --implementation cp \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
  --platform any -d .whl nbval ipykernel ipywidgets nbformat nbclient
# Already on the GPU machine (see the device tool's KINDS.md): keep its versions.
for name in numpy scipy matplotlib scikit_image tqdm pytest pluggy iniconfig packaging pillow \
            contourpy cycler fonttools kiwisolver pyparsing python_dateutil six imageio tifffile \
            networkx lazy_loader psutil pygments attrs typing_extensions setuptools coverage; do
  rm -f .whl/${name}-*.whl
done
ls .whl | sed 's/-py.*//' ; du -sh .whl
