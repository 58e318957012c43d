#!/usr/bin/env bash
# Runs the whole test suite headless (Qt offscreen, one BLAS thread per process).
set -euo pipefail
cd "$(dirname "$0")/.."
export QT_QPA_PLATFORM=offscreen
export OPENBLAS_NUM_THREADS=1
python3 -m ruff check .
python3 -m pytest -q "$@"
