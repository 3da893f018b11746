#!/usr/bin/env bash
# `buf breaking` against main: the contracts in this work tree must not break those of the commit they build on,
# which is where this branch left main (its merge base with main), or on main itself the previous commit.
#
#   proto/breaking.sh [BASE]      BASE: any commit to compare against instead (e.g. a release tag)
#
# main is the local branch, else origin/main. A shallow clone (CI) is deepened from origin until the base is
# there; if that cannot be done the check fails and says how to fix it, it is never skipped. Only a history
# with no earlier contracts (the first commit, or a base without proto/) has nothing to compare and passes.
set -euo pipefail
cd "$(dirname "$0")"

log() { printf '[buf breaking] %s\n' "$*" >&2; }
die() {
  printf '[buf breaking] ERROR: %s\n' "$*" >&2
  exit 1
}

root=$(git rev-parse --show-toplevel 2>/dev/null) || die "not a git checkout: the check compares against main's history"

is_commit() { git rev-parse --verify -q "$1^{commit}" >/dev/null; }
shallow() { [[ $(git rev-parse --is-shallow-repository) == true ]]; }

# In a shallow clone, fetches more of main's history from origin (all of it past the first try).
deepen() {
  shallow || return 1
  git remote get-url origin >/dev/null 2>&1 || return 1
  log "shallow clone: fetching more history from origin"
  # (set -e does not hold in a function called from a condition: each failure returns by itself.)
  if [[ ${deepened:-} ]]; then git fetch -q --unshallow origin || return 1; else git fetch -q --deepen=50 origin || return 1; fi
  deepened=yes
}

main_ref() {
  local ref
  for ref in refs/heads/main refs/remotes/origin/main; do
    if is_commit "$ref"; then
      echo "$ref"
      return 0
    fi
  done
  return 1
}

# The commit to compare against, on stdout; nothing when the history has none before this one.
base() {
  local main
  if (($# > 0)); then
    is_commit "$1" || die "$1 is not a commit here"
    echo "$1"
    return 0
  fi
  main=$(main_ref) || die "no main branch here (neither main nor origin/main): git fetch origin main:main"
  if [[ $(git rev-parse HEAD) == "$(git rev-parse "$main")" ]]; then
    # On main: the previous commit (the first commit has none, and nothing to break).
    until is_commit HEAD~1; do
      if ! shallow; then return 0; fi
      deepen || die "a shallow clone without main's previous commit; run: git fetch --unshallow origin"
    done
    git rev-parse HEAD~1
  else
    until git merge-base HEAD "$main" 2>/dev/null; do
      deepen || die "HEAD and $main share no commit here; in a shallow clone run: git fetch --unshallow origin"
    done
  fi
}

against=$(base "$@")
if [[ -z $against ]]; then
  log "the first commit: no earlier contracts to break"
  exit 0
fi
if [[ -z $(git -C "$root" ls-tree "$against" -- proto/) ]]; then
  log "no proto/ at $(git rev-parse --short "$against"): no earlier contracts to break"
  exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git -C "$root" archive "$against" proto | tar -x -C "$work"
log "proto/ against $(git rev-parse --short "$against") ($(git log -1 --format=%s "$against" | cut -c1-60))"
npx --no-install buf breaking --against "$work/proto"
