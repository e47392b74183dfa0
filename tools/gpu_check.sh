#!/usr/bin/env bash
# The CuPy backend checked on a real NVIDIA GPU, in one call of the device machine:
#   device run: carry [".whl"], command "bash tools/gpu_check.sh", timeout_s 540
# Prepare the wheels here first: bash tools/fetch_gpu_wheels.sh
# Everything it prints also lands in $OUT/gpu_check.log. Budget: under 8 minutes.
set -uo pipefail
OUT=${OUT:-/tmp/gpu_out}; mkdir -p "$OUT"
exec > >(tee "$OUT/gpu_check.log") 2>&1
export PYTHONUNBUFFERED=1 CNNBOOK_BACKEND=cupy MPLBACKEND=Agg
if ls .whl/*.whl >/dev/null 2>&1; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
  export PYTHONPATH=/tmp/site:$PWD
else
  export PYTHONPATH=$PWD
fi
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
python3 -c "import cupy, numpy, torch; print('cupy', cupy.__version__, 'numpy', numpy.__version__, 'torch', torch.__version__)"
python3 -m cnnbook doctor || exit 1

echo "== 1. unit tests on CuPy (cupy cases must run: CNNBOOK_BACKEND=cupy turns a skip into a failure)"
timeout 150 python3 -m pytest -q -n 8 -p no:cacheprovider -o addopts="" -m "not browser" tests --ignore=tests/browser --ignore=tests/test_lab.py -rs 2>&1 | tail -25

echo "== 2. every notebook under nbval on CuPy"
timeout 200 python3 -m pytest -q -n 8 --dist loadscope -p no:cacheprovider -o addopts="" \
  --nbval-lax --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg notebooks 2>&1 | tail -25

echo "== 3. one training step: NumPy (this machine's CPUs), CuPy, PyTorch GPU"
timeout 90 python3 -m benchmarks.bench_train --batch-size 128 512 --repeats 7

echo "== 4. python -m cnnbook train --full --backend cupy (1 epoch)"
timeout 120 python3 -m cnnbook train --full --epochs 1 --backend cupy 2>&1 | tail -3
