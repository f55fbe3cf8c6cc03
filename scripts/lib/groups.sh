# Sourced by scripts/test.sh. `group NAME COMMAND...` runs one group of checks whatever the
# groups before it did; `summary` prints every group's result and returns 1 if any failed, so a
# red first group never hides whether the others pass.
FRIDAY_RESULTS=()
FRIDAY_FAILED=0

group() {
  local name=$1
  shift
  echo "== $name"
  local rc=0
  "$@" || rc=$?
  if [ "$rc" -eq 0 ]; then
    FRIDAY_RESULTS+=("PASS  $name")
  else
    FRIDAY_RESULTS+=("FAIL  $name (exit $rc)")
    FRIDAY_FAILED=1
  fi
}

summary() {
  echo "== results"
  printf '%s\n' "${FRIDAY_RESULTS[@]}"
  return "$FRIDAY_FAILED"
}
