# Shared by the deploy scripts: argument parsing for --dry-run and an `az` runner that
# prints every command (secrets masked) and, unless dry-running, runs it.
DRY_RUN=0
ARGS=()
for a in "$@"; do
  case "$a" in
    --dry-run) DRY_RUN=1 ;;
    *) ARGS+=("$a") ;;
  esac
done
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
# Values never printed: filled in by the scripts.
SECRETS=()

mask() {
  local s="$*" v
  for v in "${SECRETS[@]}"; do [ -n "$v" ] && s="${s//"$v"/***}"; done
  printf '%s' "$s"
}

# az ARGS...: print, then run (not in dry-run). Output goes to stdout.
az_run() {
  printf '+ az %s\n' "$(mask "$(printf '%q ' "$@")")" >&2
  [ "$DRY_RUN" = 1 ] && return 0
  az "$@"
}

need_var() {
  local name="$1" hint="$2"
  if [ -z "${!name:-}" ]; then
    if [ "$DRY_RUN" = 1 ]; then
      printf -v "$name" '<%s>' "$name"
    else
      echo "${0##*/}: set $name ($hint)" >&2
      exit 2
    fi
  fi
}
