#!/usr/bin/env bash
# Take in the template's newest release on a branch of its own, as one reviewable commit.
#
#   bash scripts/update-from-template.sh [--push REMOTE [--merge-request TARGET]]
#
# From a clean tree: runs `copier update --trust --defaults` on the branch
# $TEMPLATE_UPDATE_BRANCH (default: template-update), commits the result with a message
# that names every file left with conflict markers, and writes the same description to
# $TEMPLATE_UPDATE_SUMMARY (default: .git/template-update.md) for a pull request.
# --push force-pushes the branch to REMOTE, unless someone added work to it there;
# --merge-request asks GitLab (push options) to open or refresh a merge request into TARGET.
# Results are appended as key=value lines to $GITHUB_OUTPUT or $TEMPLATE_UPDATE_OUTPUT:
# changed (true/false), conflicts (a count), title.
# When the template has nothing new, nothing is committed or pushed.
set -euo pipefail

branch="${TEMPLATE_UPDATE_BRANCH:-template-update}"
summary="${TEMPLATE_UPDATE_SUMMARY:-$(git rev-parse --absolute-git-dir)/template-update.md}"
output="${GITHUB_OUTPUT:-${TEMPLATE_UPDATE_OUTPUT:-/dev/null}}"
remote=""
target=""
while [ $# -gt 0 ]; do
  case "$1" in
    --push) remote="${2:?--push needs a remote}"; shift 2 ;;
    --merge-request) target="${2:?--merge-request needs a target branch}"; shift 2 ;;
    *) echo "usage: $0 [--push REMOTE [--merge-request TARGET]]" >&2; exit 2 ;;
  esac
done
if [ -n "$target" ] && [ -z "$remote" ]; then
  echo "--merge-request needs --push REMOTE" >&2
  exit 2
fi

answer() { sed -n "s/^$1: //p" .copier-answers.yml; }
result() { printf '%s=%s\n' "$1" "$2" >>"$output"; }

if [ -n "$(git status --porcelain)" ]; then
  echo "The working tree has uncommitted changes: commit or stash them first." >&2
  exit 1
fi
base="$(git rev-parse HEAD)"
start="$(git symbolic-ref --quiet --short HEAD || true)"
before="$(answer _commit)"
source="$(answer _src_path)"

# Whatever happens below, the checkout ends where it started.
back() { if [ -n "$start" ]; then git switch --quiet --force "$start"; else git switch --quiet --force --detach "$base"; fi; }
trap back EXIT
git switch --quiet --force-create "$branch" "$base"

# Exactly the versions pinned beside this script (kept current by Dependabot or Renovate).
uvx --with-requirements "$(dirname "$0")/template-update-requirements.txt" \
  copier update --trust --defaults --conflict inline

if [ -z "$(git status --porcelain)" ]; then
  echo "Nothing new from the template: the project is at its release ${before}."
  trap - EXIT
  back
  git branch --quiet --delete "$branch"
  result changed false
  exit 0
fi
after="$(answer _commit)"
# Files git lists as unmerged after copier's merge, and any file holding its markers.
unmerged="$(git diff --name-only --diff-filter=U)"
# Each resource added with `flask scaffold` is a copier render of its own, with its answers
# in .copier-resources/: the release reaches it too, the owners' edits kept (or marked as
# conflicts, like the project's). copier updates a clean tree only: each step is committed
# on the branch, and the steps become one commit below.
if compgen -G ".copier-resources/*.yml" >/dev/null; then
  for resource in .copier-resources/*.yml; do
    git add --all
    git commit --quiet --no-verify --allow-empty -m "Update from the template (before ${resource})"
    uvx --with-requirements "$(dirname "$0")/template-update-requirements.txt" \
      copier update --trust --defaults --conflict inline --answers-file "$resource"
    unmerged="$(printf '%s\n%s' "$unmerged" "$(git diff --name-only --diff-filter=U)")"
  done
  git add --all
  git reset --quiet --soft "$base"
fi
git add --all
marked="$(git grep --cached -l -E '^(<{7} before|>{7} after) updating$' || true)"
conflicted="$(printf '%s\n%s\n' "$unmerged" "$marked" | sed '/^$/d' | sort -u)"
count="$(printf '%s' "$conflicted" | grep -c . || true)"
title="Update from the template: ${before} -> ${after}"
if [ "$count" = 1 ]; then
  title="${title} (1 file with conflicts)"
elif [ "$count" -gt 1 ]; then
  title="${title} (${count} files with conflicts)"
fi

{
  echo "The template this project was made from (\`${source}\`) has a newer release:"
  echo "\`${before}\` -> \`${after}\`. This is \`copier update --trust --defaults\` on"
  echo "\`$(git rev-parse --short "$base")\`, with the dependencies locked again; the template's"
  echo "CHANGELOG says what changed and whether anything needs doing by hand."
  echo
  if [ "$count" -gt 0 ]; then
    echo "**Conflicts**: where the project and the release changed the same lines, these files"
    echo "hold both sides between \`<<<<<<< before updating\` and \`>>>>>>> after updating\`."
    echo "Keep the right lines, delete the markers and commit to this branch before merging:"
    echo
    printf '%s\n' "$conflicted" | while IFS= read -r file; do echo "- \`$file\`"; done
  else
    echo "No conflicts: every edit of the project's own merged cleanly."
  fi
} >"$summary"
tree="$(git write-tree)"
printf '%s\n\n%s\n\nTemplate-update-tree: %s\n' "$title" "$(cat "$summary")" "$tree" |
  git commit --quiet --no-verify --file -
echo "$title"

if [ -n "$remote" ]; then
  pushed="$(git ls-remote "$remote" "refs/heads/$branch" | cut -f1)"
  if [ -n "$pushed" ]; then
    git fetch --quiet "$remote" "refs/heads/$branch"
    made="$(git log -1 --format=%B FETCH_HEAD | sed -n 's/^Template-update-tree: //p')"
    if [ "$(git rev-list --count "$base..FETCH_HEAD")" != 1 ] ||
      [ "$made" != "$(git rev-parse 'FETCH_HEAD^{tree}')" ]; then
      echo "$remote/$branch has work of its own (conflicts resolved, commits added):" >&2
      echo "merge or delete that branch first; nothing was pushed." >&2
      result changed false
      exit 1
    fi
    if [ "$(git rev-parse 'FETCH_HEAD^{tree}')" = "$tree" ] &&
      [ "$(git rev-parse 'FETCH_HEAD^')" = "$base" ]; then
      echo "$remote/$branch already proposes this update; nothing was pushed."
      result changed false
      exit 0
    fi
  fi
  options=()
  if [ -n "$target" ]; then
    described="copier update ${before} -> ${after}. Files with conflicts: ${count}; the commit message names them."
    options=(-o merge_request.create -o "merge_request.target=$target"
      -o "merge_request.title=$title" -o "merge_request.description=$described"
      -o merge_request.remove_source_branch)
  fi
  git push --quiet "${options[@]}" --force-with-lease="refs/heads/$branch:$pushed" \
    "$remote" "refs/heads/$branch:refs/heads/$branch"
fi
result changed true
result conflicts "$count"
result title "$title"
