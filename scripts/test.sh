#!/usr/bin/env bash
# The whole test suite (`pnpm test`): the typecheck and the lint run beside jest instead of before
# it. Jest spends part of its run waiting on PostgreSQL, Redis and the browser, so two workers do
# not fill the two cores; the checks use that time. Fails when any of the three fails; the checks'
# output comes after jest's, each under its name.
set -uo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
pnpm -s typecheck > "$out/typecheck.log" 2>&1 &
typecheck=$!
pnpm -s lint > "$out/lint.log" 2>&1 &
lint=$!
pnpm -s exec jest "$@"
tests=$?
wait "$typecheck"
checked=$?
wait "$lint"
linted=$?
for check in typecheck lint; do
  printf '\n== %s\n' "$check"
  cat "$out/$check.log"
done
printf '\n== results: jest %s, typecheck %s, lint %s (0 is a pass)\n' "$tests" "$checked" "$linted"
[ "$tests" -eq 0 ] && [ "$checked" -eq 0 ] && [ "$linted" -eq 0 ]
