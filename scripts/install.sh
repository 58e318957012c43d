#!/usr/bin/env bash
# Installs everything rnnscope and its tests need on a fresh Debian machine:
# the libraries Qt loads offscreen (and for a real window under Xvfb), fonts, and the
# Python package with its pinned dependencies and test extras.
set -euo pipefail
cd "$(dirname "$0")/.."
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = "0" ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends \
        libegl1 libgl1 libfontconfig1 fonts-dejavu-core libxkbcommon0 libdbus-1-3 libglib2.0-0 \
        libxkbcommon-x11-0 libxcb-icccm4 libxcb-keysyms1 libxcb-cursor0 libxcb-shape0 \
        libxcb-randr0 libxcb-render-util0 libxcb-image0 xvfb xauth >/dev/null
fi
python3 -m pip install --quiet -e ".[test]"
