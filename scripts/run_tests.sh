#!/usr/bin/env bash
# Install (if needed) and run the whole test suite; the GUI tests start their own Xvfb.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install_system_deps.sh
bash scripts/install.sh dev
.venv/bin/lint-imports  # the layer contract in pyproject.toml
.venv/bin/python -m mypy  # the engine's types ([tool.mypy] in pyproject.toml)
exec .venv/bin/python -m pytest -q "$@"
