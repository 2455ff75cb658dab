#!/usr/bin/env bash
# Create .venv (if needed) and install railtracks_nb with its test dependencies,
# then .venv-ipykernel6: a second kernel environment with ipykernel 6 (6.29+),
# so the kernel tests run on both supported ipykernel majors (.venv has 7.x).
# Idempotent: a second run only checks that everything is installed.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
PIP=(-m pip install --quiet --disable-pip-version-check)
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python "${PIP[@]}" --upgrade pip
.venv/bin/python "${PIP[@]}" -e '.[test]'

if [ ! -x .venv-ipykernel6/bin/python ]; then
  "$PYTHON" -m venv .venv-ipykernel6
  .venv-ipykernel6/bin/python "${PIP[@]}" --upgrade pip
fi
.venv-ipykernel6/bin/python "${PIP[@]}" -e . 'ipykernel>=6.29,<7'
