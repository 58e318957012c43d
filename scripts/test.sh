#!/usr/bin/env bash
# Runs every check headless in the project's virtual environment (made by scripts/install.sh):
# ruff (lint and format), the import-layer contracts, mypy, and the whole pytest suite
# (Qt offscreen, one BLAS thread per process). Arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${RNNSCOPE_VENV:-.venv}
PY="$VENV/bin/python"
if [ ! -x "$PY" ]; then
    echo "test.sh: no virtual environment at $VENV; run 'bash scripts/install.sh' first" >&2
    exit 2
fi
export QT_QPA_PLATFORM=offscreen
export OPENBLAS_NUM_THREADS=1
"$PY" -m ruff check .
"$PY" -m ruff format --check .
"$VENV/bin/lint-imports" --no-cache
"$PY" -m mypy
"$PY" -m pytest -q "$@"
