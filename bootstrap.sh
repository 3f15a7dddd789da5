#!/usr/bin/env bash
# Set up the project-local environment (.venv, exact pins from requirements.lock) and run one job:
#   bash bootstrap.sh repro   -> dvc repro on the embedded synthetic dataset
#   bash bootstrap.sh test    -> the whole test suite (what .ci/run calls)
#   bash bootstrap.sh check   -> ruff (lint, format) and the docs site built strictly (what .ci/run calls first)
#   bash bootstrap.sh setup   -> only set up
# Needs only Python 3.11 or 3.12 (found as $PYTHON, python3.11, python3.12 or python3) and access to the package index.
# Not 3.13: mediapipe 0.10.14, the last release with the bundled (offline) face mesh models, has no wheel for it.
set -euo pipefail
cd "$(dirname "$0")"
job="${1:-repro}"; shift || true

py="${PYTHON:-}"
if [ -z "$py" ]; then
  for cand in python3.11 python3.12 python3; do
    if command -v "$cand" >/dev/null &&
       "$cand" -c 'import sys; sys.exit(sys.version_info[:2] not in ((3, 11), (3, 12)))' 2>/dev/null; then
      py="$cand"; break
    fi
  done
fi
[ -n "$py" ] || { echo "bootstrap: Python 3.11 or 3.12 not found (set PYTHON=/path/to/python3.12)" >&2; exit 2; }
"$py" -c 'import sys; sys.exit(sys.version_info[:2] not in ((3, 11), (3, 12)))' ||
  { echo "bootstrap: $py is not Python 3.11 or 3.12 (mediapipe 0.10.14 has wheels for those only)" >&2; exit 2; }

if [ ! -x .venv/bin/python ]; then
  echo "bootstrap: creating .venv with $py" >&2
  "$py" -m venv .venv
fi
# Reinstall only when the lock or the package metadata changed.
stamp=.venv/.mer_pipeline_installed
want="$(cat requirements.lock pyproject.toml | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "bootstrap: installing pinned dependencies (requirements.lock)" >&2
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
  echo "$want" > "$stamp"
fi
export PATH="$PWD/.venv/bin:$PATH"

case "$job" in
  setup) ;;
  repro) dvc repro "$@" ;;
  test)  python -m pytest "$@" ;;
  check) ruff check . && ruff format --check . &&
         NO_MKDOCS_2_WARNING=1 mkdocs build --strict --quiet --site-dir "$(mktemp -d)" ;;
  *) echo "bootstrap: unknown job '$job' (use repro, test, check or setup)" >&2; exit 2 ;;
esac
