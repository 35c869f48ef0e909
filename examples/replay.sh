#!/usr/bin/env bash
# Replay an incident through the CLI, line by line, as the people who typed it.
#
#   examples/replay.sh FILE [incident-tui options...]
#   TZ=UTC examples/replay.sh examples/replay-gitlab-2017-01-31.txt --store /tmp/replay.jsonl
#
# FILE: one entry a line, AUTHOR<TAB>LINE of the command language; `#` lines are comments.
# The first entry declares: AUTHOR<TAB>declare<TAB>WHEN<TAB>SEVERITY<TAB>TITLE.
# Stops at the first refused line (its one-line reason is on stderr).
set -euo pipefail
file=$1
shift
tui=${INCIDENT_TUI:-incident-tui}
ref=""
while IFS=$'\t' read -r who rest; do
  [[ -z "$who" || "$who" == \#* ]] && continue
  if [[ "$rest" == declare$'\t'* ]]; then
    IFS=$'\t' read -r _ when sev title <<<"$rest"
    ref=$("$tui" "$@" --user "$who" declare "$title" --severity "$sev" --at "$when")
    echo "$ref"
    continue
  fi
  "$tui" "$@" --user "$who" log "$ref" "$rest" >/dev/null
done <"$file"
