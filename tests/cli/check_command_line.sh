#!/usr/bin/env bash
# The command-line contract every program keeps (README): `PROGRAM [SUBCOMMAND] --help` and `-h` print the
# usage on stdout and exit 0; an unknown flag (or command) prints the usage on stderr and exits 2, with
# nothing on stdout.
#   check_command_line.sh UNKNOWN BINARY [SUBCOMMAND]     UNKNOWN: e.g. --no-such-flag or no-such-command
set -uo pipefail
unknown=$1
binary=$2
shift 2
name="$(basename "$binary")${1:+ $1}"
out=$(mktemp) err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT
failed=0
fail() { echo "FAIL $name: $*"; echo "--- stdout"; cat "$out"; echo "--- stderr"; cat "$err"; failed=1; }

for flag in --help -h; do
  "$binary" "$@" "$flag" >"$out" 2>"$err"
  status=$?
  [ $status -eq 0 ] || fail "$flag exited $status, not 0"
  grep -qi 'usage' "$out" || fail "$flag printed no usage on stdout"
  [ ! -s "$err" ] || fail "$flag wrote to stderr"
done

"$binary" "$@" "$unknown" >"$out" 2>"$err"
status=$?
[ $status -eq 2 ] || fail "$unknown exited $status, not 2"
grep -qi 'usage' "$err" || fail "$unknown printed no usage on stderr"
grep -q -- "$unknown" "$err" || fail "the error does not name $unknown"
[ ! -s "$out" ] || fail "$unknown wrote to stdout"

[ $failed -eq 0 ] && echo "ok   $name"
exit $failed
