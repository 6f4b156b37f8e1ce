#!/usr/bin/env bash
# The test command: type-check, then every test file through node's test runner (tsx loader).
# The file list is expanded here and checked to be non-empty, so a glob that matches nothing
# fails loudly instead of "passing" with zero tests.
#   scripts/test.sh          type-check + unit + e2e (e2e needs root: namespaces, lab)
#   scripts/test.sh unit     type-check + unit tests only
#   scripts/test.sh e2e      e2e tests only
set -euo pipefail
cd "$(dirname "$0")/.."
which=${1:-all}

if [ "$which" != e2e ]; then
  echo "== type-check (tsc)"
  npx tsc -p . --noEmit
fi

files=()
if [ "$which" != e2e ]; then
  mapfile -t unit < <(find test -name '*.test.ts' -not -path 'test/e2e/*' | sort)
  files+=("${unit[@]}")
fi
if [ "$which" != unit ]; then
  mapfile -t e2e < <(find test/e2e -name '*.test.ts' 2>/dev/null | sort)
  files+=("${e2e[@]}")
fi
if [ "${#files[@]}" -eq 0 ]; then
  echo "no test files found for '$which'" >&2
  exit 1
fi
echo "== ${#files[@]} test files"
# One file at a time: e2e files create namespaces and a lab; they must not race each other.
exec node --import tsx --test --test-concurrency=1 --test-reporter=spec "${files[@]}"
