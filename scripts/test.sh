#!/usr/bin/env bash
# The whole test job, on a fresh machine or a used one: set up, check, test.
#   bash scripts/test.sh            # everything CI runs
#   bash scripts/test.sh -k flow    # extra arguments go to pytest
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# Railtracks 1.7 itself, for the differential tests (about a minute; not needed by the demo).
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[test,compat]'
if [ -f scripts/ci_widgets.sh ]; then
  # Debian chromium for the browser tests, npm ci, and the committed-bundle check.
  bash scripts/ci_widgets.sh
fi
.venv/bin/ruff check railtracks_nb tests bench
# The architecture: layers import only downwards, no cycles, no IPython under the notebook layer.
.venv/bin/lint-imports
# The types: mypy over the whole package ([tool.mypy] in pyproject.toml).
.venv/bin/mypy railtracks_nb
RT_REQUIRE_KERNEL_ENVS=1 .venv/bin/python -m pytest tests "$@"
# The example notebooks, executed on a fresh kernel and compared cell by cell
# (strict mode; only ids, times and picture data are masked by the sanitize file).
.venv/bin/python -m pytest --nbval --nbval-current-env \
  --nbval-sanitize-with notebooks/nbval_sanitize.cfg notebooks/
