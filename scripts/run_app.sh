#!/usr/bin/env bash
# Install (if needed) and start the desktop app on the bundled demo project.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
exec .venv/bin/adhmr-gui --demo "$@"
