#!/usr/bin/env bash
# The action's main step: runs `aepact validate|plan|apply|status` as the inputs say (action.yml
# documents them) and sets the step's outputs. Every input arrives in an INPUT_* variable, never
# spliced into the script, so no input can run as code.
#
# plan:   `plan --format markdown --detailed-exitcode --out FILE`; on a pull request the comment
#         that starts with `<!-- aepact:plan -->` is updated, or created when there is none. The
#         comment always says something: when aepact printed nothing, it says how it exited.
# apply:  `apply --auto-approve`; with commit-lockfiles the lockfiles are committed and pushed
#         right away (retrying after `git pull --rebase`), so the record of what was sent is on
#         the branch before the long `status --wait`; then status, then commit and push again.
# The step fails when aepact does (exit 1, or 75 "try again later"); `plan` exiting 2 (something
# to apply) succeeds.
set -euo pipefail

MARKER="<!-- aepact:plan -->"

fail() {
  echo "::error title=aepact action::$*"
  exit 1
}

is_true() {
  case "$1" in
    true | True | TRUE | 1 | yes) return 0 ;;
    false | False | FALSE | 0 | no | "") return 1 ;;
    *) fail "\`$1\` is not true or false" ;;
  esac
}

output() {
  echo "$1=$2" >> "${GITHUB_OUTPUT:?}"
}

command_name="${INPUT_COMMAND:?the command input}"
# Blank-separated lists, never glob-expanded.
read -r -d '' -a paths <<< "${INPUT_PATHS:-plans/}" || true
read -r -d '' -a args <<< "${INPUT_ARGS:-}" || true
[ "${#paths[@]}" -gt 0 ] || fail "the paths input is empty"

# Runs aepact, keeping its exit status in $status instead of ending the script.
run_aepact() {
  echo "+ aepact $*"
  status=0
  aepact "$@" || status=$?
}

# The lockfiles below `paths` that changed: `plans/x.yaml` is recorded in `plans/x.lock.json`.
changed_lockfiles() {
  git ls-files --modified --others --exclude-standard -- "${paths[@]}" | grep '\.lock\.json$' || true
  for p in "${paths[@]}"; do
    case "$p" in
      *.yaml | *.yml)
        local lock="${p%.*}.lock.json"
        if [ -f "$lock" ] && [ -n "$(git status --porcelain -- "$lock")" ]; then echo "$lock"; fi
        ;;
    esac
  done
}

# Commits the changed lockfiles and pushes them to the branch the workflow runs on, pulling
# (with rebase) and retrying when someone pushed first. The token goes to git in the
# environment, for these commands only: the checkout keeps no credentials.
commit_and_push() {
  local message="$1"
  local files
  files="$(changed_lockfiles | sort -u)"
  if [ -z "$files" ]; then
    echo "No lockfile changed."
    return 0
  fi
  # The identity of the commit, and of the commits `git pull --rebase` rewrites.
  export GIT_AUTHOR_NAME="github-actions[bot]" GIT_COMMITTER_NAME="github-actions[bot]"
  export GIT_AUTHOR_EMAIL="41898282+github-actions[bot]@users.noreply.github.com"
  export GIT_COMMITTER_EMAIL="$GIT_AUTHOR_EMAIL"
  echo "$files" | while IFS= read -r f; do git add -- "$f"; done
  git commit --quiet -m "$message" -m "Recorded by aepact in ${GITHUB_SERVER_URL:-}/${GITHUB_REPOSITORY:-}/actions/runs/${GITHUB_RUN_ID:-}"
  local branch="${GITHUB_HEAD_REF:-${GITHUB_REF_NAME:?the branch to push to}}"
  local auth
  auth="$(printf 'x-access-token:%s' "${AEPACT_GITHUB_TOKEN:?the github-token input}" | base64 | tr -d '\n')"
  echo "::add-mask::$auth"
  local attempt
  for attempt in 1 2 3 4 5; do
    if GIT_CONFIG_COUNT=1 \
      GIT_CONFIG_KEY_0="http.${GITHUB_SERVER_URL:-https://github.com}/.extraheader" \
      GIT_CONFIG_VALUE_0="AUTHORIZATION: basic $auth" \
      git push --quiet origin "HEAD:refs/heads/$branch"; then
      echo "Pushed the lockfiles to $branch."
      return 0
    fi
    echo "Push $attempt of 5 refused; pulling $branch and trying again."
    sleep "$((attempt * 3))"
    if ! GIT_CONFIG_COUNT=1 \
      GIT_CONFIG_KEY_0="http.${GITHUB_SERVER_URL:-https://github.com}/.extraheader" \
      GIT_CONFIG_VALUE_0="AUTHORIZATION: basic $auth" \
      git pull --quiet --rebase origin "$branch"; then
      git rebase --abort 2>/dev/null || true
      break
    fi
  done
  echo "::error title=aepact lockfiles not pushed::The lockfiles record what was sent but could not be pushed to $branch. They are committed in this job's workspace: push them by hand before the next apply (see the job log)."
  return 1
}

# Posts the comment, or updates the one that starts with the marker.
post_comment() {
  local file="$1" pr
  pr="$(jq -r '.pull_request.number // empty' "${GITHUB_EVENT_PATH:?}")"
  if [ -z "$pr" ]; then
    echo "Not a pull request: no comment."
    return 0
  fi
  local api="repos/${GITHUB_REPOSITORY:?}/issues"
  local id
  id="$(GH_TOKEN="$AEPACT_GITHUB_TOKEN" gh api --paginate "$api/$pr/comments" \
    --jq ".[] | select(.body | startswith(\"$MARKER\")) | .id" | head -n 1)"
  if [ -n "$id" ] && jq -cRs '{body: .}' < "$file" |
    GH_TOKEN="$AEPACT_GITHUB_TOKEN" gh api --silent --method PATCH "$api/comments/$id" --input -; then
    echo "Updated the plan comment on pull request #$pr."
  else
    jq -cRs '{body: .}' < "$file" |
      GH_TOKEN="$AEPACT_GITHUB_TOKEN" gh api --silent --method POST "$api/$pr/comments" --input -
    echo "Posted the plan comment on pull request #$pr."
  fi
}

# The plan's summary numbers: to-apply and already-applied from the saved plan, refused from
# the comment's summary line.
plan_outputs() {
  local saved="$1" comment="$2"
  if [ -s "$saved" ]; then
    output to-apply "$(jq '[.plans[] | select(.verdict.action == "apply")] | length' "$saved")"
    output already-applied "$(jq '[.plans[] | select(.verdict.action != "apply")] | length' "$saved")"
    output saved-plan "$saved"
  fi
  local refused
  refused="$(sed -n 's/^Plan: .*, \([0-9][0-9]*\) refused\.$/\1/p' "$comment" | head -n 1)"
  output refused "${refused:-0}"
}

case "$command_name" in
  validate)
    run_aepact validate --format github ${args[@]+"${args[@]}"} "${paths[@]}"
    ;;
  plan)
    out="${INPUT_PLAN_OUT:-aepact-plan.json}"
    comment="${RUNNER_TEMP:-/tmp}/aepact-comment.md"
    rm -f -- "$out"
    echo "+ aepact plan --format markdown --detailed-exitcode --out $out ${args[*]-} ${paths[*]}"
    status=0
    aepact plan --format markdown --detailed-exitcode --out "$out" ${args[@]+"${args[@]}"} "${paths[@]}" > "$comment" || status=$?
    cat "$comment"
    if [ ! -s "$comment" ]; then
      {
        echo "$MARKER"
        echo "### aepact plan"
        echo
        echo "**aepact plan failed** (exit status $status) before it printed a plan; the reason is in the [job log](${GITHUB_SERVER_URL:-}/${GITHUB_REPOSITORY:-}/actions/runs/${GITHUB_RUN_ID:-})."
      } > "$comment"
    fi
    output comment-file "$comment"
    plan_outputs "$out" "$comment"
    if is_true "${INPUT_COMMENT:-true}"; then
      post_comment "$comment" || echo "::warning title=aepact::could not post the plan comment (the token needs pull-requests: write)"
    fi
    ;;
  apply)
    if [ -n "${INPUT_SAVED_PLAN:-}" ]; then
      run_aepact apply --auto-approve ${args[@]+"${args[@]}"} "$INPUT_SAVED_PLAN"
    else
      run_aepact apply --auto-approve ${args[@]+"${args[@]}"} "${paths[@]}"
    fi
    apply_status=$status
    pushed=0
    if is_true "${INPUT_COMMIT_LOCKFILES:-false}"; then
      commit_and_push "aepact: record activations" || pushed=1
    fi
    # Even after a failed apply: `status` is what settles a job whose response was lost.
    if is_true "${INPUT_WAIT:-false}"; then
      run_aepact status --wait --timeout "${INPUT_TIMEOUT:-30m}" "${paths[@]}"
      output status-exit-code "$status"
      if is_true "${INPUT_COMMIT_LOCKFILES:-false}"; then
        commit_and_push "aepact: record activation outcomes" || pushed=1
      fi
      if [ "$status" -ne 0 ] && [ "$apply_status" -eq 0 ]; then
        apply_status=$status
      fi
    fi
    status=$apply_status
    if [ "$status" -eq 0 ] && [ "$pushed" -ne 0 ]; then
      status=1
    fi
    ;;
  status)
    if is_true "${INPUT_WAIT:-false}"; then
      run_aepact status --wait --timeout "${INPUT_TIMEOUT:-30m}" "${paths[@]}"
    else
      run_aepact status "${paths[@]}"
    fi
    if is_true "${INPUT_COMMIT_LOCKFILES:-false}"; then
      commit_and_push "aepact: record activation outcomes" || status=1
    fi
    ;;
  *)
    fail "command: \`$command_name\` is not one of validate, plan, apply, status"
    ;;
esac

output exit-code "$status"
case "$command_name:$status" in
  *:0 | plan:2) exit 0 ;;
  *:75) echo "::warning title=aepact::refused for now (exit 75): try again later" ; exit 75 ;;
  *) exit "$status" ;;
esac
