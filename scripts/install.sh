#!/usr/bin/env bash
# Install ADHMR Studio into .venv at the repository root (idempotent, fast when done).
#   bash scripts/install.sh          # the app
#   bash scripts/install.sh dev      # the app + test tools + the tests' toy plug-in
# Order matters: torch first (the CPU build, so nothing pulls the multi-GB CUDA wheels),
# then the project, then the BlazePose weights carrier without its dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."
extra="${1:-}"
PY="${PYTHON:-$(command -v python3.11 || command -v python3)}"
TORCH_SPEC="${ADHMR_TORCH_SPEC:-torch==2.13.0}"

if [ ! -x .venv/bin/python ]; then
    "$PY" -m venv .venv
fi
stamp=".venv/.adhmr-installed-$(cat pyproject.toml scripts/install.sh | sha256sum | cut -c1-16)${extra:+-$extra}"
if [ -f "$stamp" ]; then
    exit 0
fi
pip=(.venv/bin/python -m pip install --disable-pip-version-check -q)
if ! .venv/bin/python -c "import torch" 2>/dev/null; then
    "${pip[@]}" "$TORCH_SPEC"
fi
if [ -n "$extra" ]; then
    "${pip[@]}" -e ".[$extra]"
    if [ "$extra" = dev ]; then
        # The toy sampler/scorer plug-in the tests use through its entry points.
        "${pip[@]}" -e tests/plugins/adhmr_toy_plugin
    fi
else
    "${pip[@]}" -e .
fi
"${pip[@]}" --no-deps mediapipe==0.10.14
touch "$stamp"
