#!/usr/bin/env bash
# Set up (if needed) and run the demo: a flow runs, its state is saved, and its
# dashboard and exports are written to demo-output/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/python examples/demo.py "$@"
