#!/usr/bin/env bash
# The widgets' CI step (called from .ci/run). Idempotent:
#  1. installs Debian's chromium (for the browser tests) if /usr/bin/chromium is missing;
#  2. installs the locked npm dependencies of widgets/ (npm ci);
#  3. type-checks the sources and the tests (tsc --noEmit, strict, against
#     @anywidget/types): esbuild strips types without checking them;
#  4. runs the front end's unit tests (node's test runner: the row decoder and
#     the store, against sessions the Python side recorded);
#  5. rebuilds the bundle into railtracks_nb/static and fails if it differs from
#     the committed one (the build is deterministic: same sources + lockfile, same bytes).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

if [ ! -x /usr/bin/chromium ]; then
  echo "ci_widgets: /usr/bin/chromium missing, installing Debian's chromium"
  SUDO=""
  if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi
/usr/bin/chromium --version || { echo "ci_widgets: chromium does not run" >&2; exit 1; }

if ! command -v npm >/dev/null; then
  echo "ci_widgets: npm not found; it is needed to rebuild the widget bundle" >&2
  exit 1
fi

cd "$ROOT/widgets"
npm ci --no-audit --no-fund --loglevel=error
npm run --silent typecheck || { echo "ci_widgets: FAILED: tsc found type errors in widgets/" >&2; exit 1; }
npm run --silent test || { echo "ci_widgets: FAILED: the front end's unit tests (widgets/test)" >&2; exit 1; }
npm run --silent build
cd "$ROOT"

# Untracked files in static/ would be new outputs the commit lacks.
untracked="$(git ls-files --others --exclude-standard railtracks_nb/static)"
if ! git diff --exit-code --stat railtracks_nb/static || [ -n "$untracked" ]; then
  [ -n "$untracked" ] && echo "untracked: $untracked"
  echo "ci_widgets: FAILED: the committed bundle in railtracks_nb/static is not what" >&2
  echo "  widgets/src builds to. Run 'cd widgets && npm ci && npm run build' and commit" >&2
  echo "  railtracks_nb/static." >&2
  exit 1
fi
echo "ci_widgets: types check, unit tests pass, bundle up to date, chromium ready"
