#!/usr/bin/env bash
# The window of every model kind on a real X server (Xvfb) at 1280x720 and 1920x1080, with fresh
# settings: checks that every dock and key control lies on the screen (exit 1 otherwise) and saves
# the screenshots to docs/screenshots/<kind>-<width>x<height>.png (or to $1), and the Training and
# Gradient check panels in use (training-..., gradcheck-..., and each panel whole: ...-panel-...).
# Needs: xvfb xauth libxcb-icccm4 libxcb-keysyms1 (apt-get install); the shipped models (data/models).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${RNNSCOPE_VENV:-.venv}
OUT=${1:-docs/screenshots}
export OPENBLAS_NUM_THREADS=1 PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
status=0
for size in 1280x720 1920x1080; do
    config=$(mktemp -d)
    XDG_CONFIG_HOME="$config" xvfb-run -a -s "-screen 0 ${size}x24" env QT_QPA_PLATFORM=xcb \
        "$VENV/bin/python" -m rnnscope.app.screenshots --check --tools --dir "$OUT" || status=1
    rm -rf "$config"
done
exit $status
