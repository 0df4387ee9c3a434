#!/usr/bin/env bash
# Write deploy/constraints.txt anew: the exact versions a clean install of the project resolves
# to today, the PostgreSQL driver (the `postgres` extra) included. Run it after changing dependencies
# in pyproject.toml, then run the tests and commit both.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="$(mktemp -d)/venv"
python3 -m venv "$venv"
"$venv/bin/pip" install -q ".[postgres]"
{
  echo "# Exact versions of every runtime dependency, tested together (deploy/lock-dependencies.sh writes this)."
  echo "# Install with:  pip install -c deploy/constraints.txt .   (with PostgreSQL: '.[postgres]')"
  "$venv/bin/pip" freeze --exclude arxiv-digest-bot
} > deploy/constraints.txt
rm -rf "$(dirname "$venv")"
echo "wrote deploy/constraints.txt"
