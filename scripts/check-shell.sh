#!/usr/bin/env bash
# Runs ShellCheck on every shell script of the repository: every `*.sh` file, `.ci/run`, and
# any other file whose first line is a sh/bash shebang. Files come from git (tracked,
# plus new files that are not ignored), so node_modules and build output are skipped.
#
#   scripts/check-shell.sh        exit 0 when every script is clean
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

if ! command -v shellcheck >/dev/null 2>&1; then
  echo "check-shell: shellcheck is not installed (apt-get install -y shellcheck)" >&2
  exit 1
fi

is_shell_script() {
  local file=$1 first_line=''
  case "$file" in
    *.sh | .ci/run) return 0 ;;
  esac
  IFS= read -r first_line <"$file" || true
  [[ $first_line =~ ^#!.*[/[:space:]](ba|da|k)?sh([[:space:]]|$) ]]
}

scripts=()
while IFS= read -r -d '' file; do
  [[ -f $file ]] || continue # tracked but deleted in the working tree
  if is_shell_script "$file"; then
    scripts+=("$file")
  fi
done < <(git ls-files -z --cached --others --exclude-standard)

if ((${#scripts[@]} == 0)); then
  echo "check-shell: no shell scripts found"
  exit 0
fi

shellcheck --external-sources -- "${scripts[@]}"
echo "check-shell: ${#scripts[@]} script(s) clean: ${scripts[*]}"
