#!/usr/bin/env bash
# Installs everything rnnscope and its tests need, on a fresh Debian/Ubuntu machine or any
# machine with Python 3.11+:
#  1. system packages (only those missing; as root, or through passwordless sudo): the
#     libraries Qt loads offscreen and in a real window under Xvfb, fonts, and python3-venv;
#  2. a project virtual environment, .venv (or $RNNSCOPE_VENV), made with $PYTHON (python3),
#     holding the package and its pinned dependencies and test tools.
# Nothing is installed into the system's Python. Safe to run again: it only adds what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
VENV=${RNNSCOPE_VENV:-.venv}

system_packages=(
    libegl1 libgl1 libfontconfig1 fonts-dejavu-core libxkbcommon0 libdbus-1-3 libglib2.0-0
    libxkbcommon-x11-0 libxcb-icccm4 libxcb-keysyms1 libxcb-cursor0 libxcb-shape0
    libxcb-randr0 libxcb-render-util0 libxcb-image0 xvfb xauth
)
# a Python without ensurepip (Debian's, before python3-venv) cannot make a virtual environment
if ! "$PYTHON" -c "import ensurepip, venv" >/dev/null 2>&1; then
    system_packages+=(python3-venv)
fi

as_root=()
if [ "$(id -u)" != "0" ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true >/dev/null 2>&1; then
        as_root=(sudo -n)
    else
        as_root=(none)
    fi
fi

if command -v dpkg-query >/dev/null 2>&1; then
    missing=()
    for package in "${system_packages[@]}"; do
        if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
            missing+=("$package")
        fi
    done
    if [ "${#missing[@]}" -gt 0 ]; then
        if [ "${as_root[*]-}" = "none" ]; then
            echo "install.sh: these system packages are missing and this user cannot install them:" >&2
            echo "    sudo apt-get install ${missing[*]}" >&2
            echo "install.sh: going on; the offscreen tests may still run without them." >&2
        else
            echo "install.sh: installing system packages: ${missing[*]}"
            export DEBIAN_FRONTEND=noninteractive
            "${as_root[@]}" apt-get update -qq
            "${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
        fi
    fi
fi

if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c "import sys" >/dev/null 2>&1; then
    echo "install.sh: creating the virtual environment $VENV with $("$PYTHON" --version 2>&1)"
    rm -rf "$VENV"
    "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --upgrade "pip>=23.2"
"$VENV/bin/python" -m pip install --quiet -e ".[test]"
echo "install.sh: done. Run the app with $VENV/bin/rnnscope (or activate $VENV first)."
