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

KERNEL6=(-e . 'ipykernel>=6.29,<7')
if [ ! -x .venv-ipykernel6/bin/python ]; then
  "$PYTHON" -m venv .venv-ipykernel6
  .venv-ipykernel6/bin/python "${PIP[@]}" --upgrade pip
fi
# Reinstalled only when pyproject.toml or the requirement changed (the package is
# editable: source changes need nothing); the stamp is written after a good install.
stamp="$(cat pyproject.toml; echo "${KERNEL6[*]}")"
if [ "$(cat .venv-ipykernel6/.railtracks-installed 2>/dev/null)" != "$stamp" ]; then
  .venv-ipykernel6/bin/python "${PIP[@]}" "${KERNEL6[@]}"
  printf '%s' "$stamp" > .venv-ipykernel6/.railtracks-installed
fi
