#!/usr/bin/env bash
# A local rehearsal of the Azure deployment: PostgreSQL, `i2server migrate` (the migrate
# job), one `i2server serve --workers 0` and two `i2server worker`, each configured with
# exactly the variables deploy/azure/applications.bicep gives that app (read from the
# template; a variable the rehearsal has no local value for stops it), then verify.sh
# against the server. Bounded in time; stops only the processes it started (by PID) and
# drops the database it created.
#
# Environment:
#   I2SERVER_BIN     the binary (default: target/debug/i2server, built if missing)
#   I2_TEST_PG_URL   PostgreSQL admin URL (a fresh database is created and dropped)
#   I2_TEST_PYTHON   the Python with ccp4i2 installed (the workers' CCP4I2_PYTHON)
#   I2_CCP4I2_ROOT   that ccp4i2 package (the server's CCP4I2_ROOT; verify.sh's MTZ)
#   REHEARSAL_SECS   overall time limit (default 420)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/.." && pwd)"
template="$here/azure/applications.bicep"
limit="${REHEARSAL_SECS:-420}"
started=$(date +%s)

need() { [ -n "${!1:-}" ] || { echo "rehearse: $1 is not set (run through scripts/test.sh, or see the header)" >&2; exit 2; }; }
need I2_TEST_PG_URL; need I2_TEST_PYTHON; need I2_CCP4I2_ROOT
bin="${I2SERVER_BIN:-$repo/target/debug/i2server}"
[ -x "$bin" ] || (cd "$repo" && cargo build -q -p i2server)

work="$(mktemp -d "${TMPDIR:-/tmp}/i2-rehearsal.XXXXXX")"
pids=()
db="i2_rehearsal_$$_$(date +%s)"
ok=0
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for _ in $(seq 1 50); do
    alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 0.2
  done
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  psql "$I2_TEST_PG_URL" -q -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  if [ "$ok" = 1 ]; then
    rm -rf "$work"
  else
    for f in "$work"/*.log; do [ -f "$f" ] && { echo "--- $(basename "$f") (last lines)"; tail -n 20 "$f"; }; done
    echo "rehearsal files kept in $work"
  fi
}
trap cleanup EXIT
trap "exit 1" TERM INT

# --- the template's variables, per app: "<app> <NAME> <value expression>"
parse() {
  awk '
    /^var (dbEnv|serverEnv|workerEnv) =/ { split($2, a, "Env"); block = a[1]; next }
    block != "" && /^\](\)| : \[\]\))?$/ { block = ""; next }
    block != "" && match($0, /\{ name: \x27[A-Z0-9_]+\x27, (value|secretRef): .* \}/) {
      line = substr($0, RSTART, RLENGTH)
      name = line; sub(/^\{ name: \x27/, "", name); sub(/\x27.*/, "", name)
      val = line; sub(/^[^,]*, /, "", val); sub(/ \}$/, "", val)
      print block, name, val
    }
  ' "$template"
}
vars="$(parse)"
[ -n "$vars" ] || { echo "rehearse: no environment variables found in $template" >&2; exit 1; }
app_vars() { # server | worker | migrate
  case "$1" in
    server) printf '%s\n' "$vars" | awk '$1 == "db" || $1 == "server" { $1 = ""; print substr($0, 2) }' ;;
    worker) printf '%s\n' "$vars" | awk '$1 == "db" || $1 == "worker" { $1 = ""; print substr($0, 2) }' ;;
    migrate) printf '%s\n' "$vars" | awk '$1 == "db" { $1 = ""; print substr($0, 2) }' ;;
  esac
}

# --- local stand-ins for the Azure values
pg_noscheme="${I2_TEST_PG_URL#*://}"
pg_userhost="${pg_noscheme%%/*}"
pg_user="${pg_userhost%%@*}"; pg_user="${pg_user%%:*}"
pg_hostport="${pg_userhost#*@}"
pg_host="${pg_hostport%%:*}"
pg_port="${pg_hostport##*:}"; [ "$pg_port" = "$pg_hostport" ] && pg_port=5432
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
token="rehearsal-$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')"
mkdir -p "$work/projects"

# The value for NAME in APP given the template's value expression; "-" leaves it unset.
local_value() {
  local app="$1" name="$2" expr="$3"
  local literal=""
  case "$expr" in "value: '"*"'") literal="${expr#value: \'}"; literal="${literal%\'}" ;; esac
  case "$name" in
    DB_HOST) echo "$pg_host" ;;
    DB_PORT) echo "$pg_port" ;;
    DB_USER) echo "$pg_user" ;;
    DB_NAME) echo "$db" ;;
    DB_SSL_MODE) echo disable ;;                 # the local server has no TLS; Azure: require
    DB_PASSWORD) echo unused ;;                  # Key Vault secret db-password; local trust auth
    CCP4I2_HOME) echo "$work/home-$app" ;;       # per container, as in Azure
    CCP4I2_PROJECTS_DIR) echo "$work/projects" ;; # the shared Azure Files mount
    CCP4I2_ROOT) echo "$I2_CCP4I2_ROOT" ;;
    CCP4I2_PYTHON) echo "$I2_TEST_PYTHON" ;;
    CCP4) echo - ;;                              # freerflag needs no CCP4
    CLIBD_MON) echo "${CLIBD_MON:--}" ;;
    I2SERVER_HOST) echo 127.0.0.1 ;;             # loopback: authenticated by the session token
    I2SERVER_PORT) echo "$port" ;;
    I2SERVER_WORKERS|I2SERVER_LOG_FORMAT) echo "$literal" ;;
    I2SERVER_SHUTDOWN_GRACE_SECS) echo 5 ;;
    CCP4I2_REQUIRE_AUTH) echo false ;;           # no Entra ID tenant locally
    AZURE_AD_TENANT_ID|AZURE_AD_CLIENT_ID|ALLOWED_AZURE_AD_GROUPS) echo - ;;
    CCP4I2_LOCAL_SESSION_TOKEN) echo "$token" ;;
    BUILD_TIMESTAMP) echo rehearsal ;;
    GIT_COMMIT) git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown ;;
    *) echo "rehearse: applications.bicep sets $name for the $app, and the rehearsal has no local value for it: add one to local_value in $0" >&2; return 1 ;;
  esac
}

# env -i plus the app's variables (and PATH/HOME so the processes can run).
env_for() {
  local app="$1" name expr value
  printf '%s\n' "PATH=$PATH" "HOME=$work/home-$app" "TMPDIR=${TMPDIR:-/tmp}"
  while read -r name expr; do
    value="$(local_value "$app" "$name" "$expr")" || return 1
    [ "$value" = - ] || printf '%s=%s\n' "$name" "$value"
  done < <(app_vars "$app")
  # The session token exists in Azure only when infrastructure.bicep stored one; the
  # rehearsal always authenticates with one.
  [ "$app" = server ] && printf 'CCP4I2_LOCAL_SESSION_TOKEN=%s\n' "$token"
  return 0
}
start() { # name app args...
  local name="$1" app="$2"; shift 2
  local envfile="$work/$name.env"
  env_for "$app" > "$envfile"
  mkdir -p "$work/home-$app"
  (cd "$work" && exec env -i $(cat "$envfile") "$bin" "$@") > "$work/$name.log" 2>&1 &
  pids+=($!)
  echo "started $name (pid $!): i2server $* with $(grep -c . "$envfile") variables"
}

echo "== template variables: server $(app_vars server | wc -l), worker $(app_vars worker | wc -l), migrate $(app_vars migrate | wc -l)"
psql "$I2_TEST_PG_URL" -q -c "CREATE DATABASE $db" >/dev/null

echo "== migrate (the one-off job)"
env_for migrate > "$work/migrate.env"
mkdir -p "$work/home-migrate"
(cd "$work" && env -i $(cat "$work/migrate.env") "$bin" migrate) > "$work/migrate.log" 2>&1 \
  || { echo "rehearse: migrate failed"; exit 1; }

echo "== the server's class cache (built into the server image at build time)"
mkdir -p "$work/home-server"
env -i PATH="$PATH" HOME="$work/home-server" CCP4I2_HOME="$work/home-server" CCP4I2_ROOT="$I2_CCP4I2_ROOT" \
  CCP4I2_PYTHON="$I2_TEST_PYTHON" "$bin" tasks --refresh > "$work/cache.log" 2>&1 \
  || { echo "rehearse: building the class cache failed"; exit 1; }

echo "== server and two workers"
start server server serve --workers 0
start worker-1 worker worker
start worker-2 worker worker

base="http://127.0.0.1:$port"
for _ in $(seq 1 150); do
  curl -fsS -o /dev/null "$base/api/ccp4i2/health/" 2>/dev/null && break
  for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null || { echo "rehearse: process $pid exited"; exit 1; }; done
  sleep 0.2
done

remaining=$(( limit - ($(date +%s) - started) ))
[ "$remaining" -gt 30 ] || { echo "rehearse: out of time before verify"; exit 1; }
echo "== verify.sh $base"
timeout "$remaining" "$here/azure/verify.sh" --token "$token" --jobs 2 --mtz \
  "$I2_CCP4I2_ROOT/wrappers/freerflag/test_data/rnase25_fsigf.mtz" --timeout $(( remaining - 10 )) "$base" \
  | tee "$work/verify.out"

# Each job ran on one of the workers (the server has none), and logs are JSON as configured.
jobs_done="$(sed -n 's/^ok: job \([0-9]*\) Finished.*/\1/p' "$work/verify.out")"
[ "$(printf '%s\n' "$jobs_done" | grep -c .)" = 2 ] || { echo "rehearse: verify.sh did not report two finished jobs"; exit 1; }
used=""
for job in $jobs_done; do
  ran_on=""
  for w in worker-1 worker-2; do grep -q "\"job\":$job[,}]" "$work/$w.log" && ran_on="$ran_on $w"; done
  [ -n "$ran_on" ] || { echo "rehearse: no worker log mentions job $job"; exit 1; }
  echo "ok: job $job ran on:$ran_on"
  used="$used$ran_on"
done
echo "ok: workers used:$(printf '%s\n' $used | sort -u | tr '\n' ' ')"
for f in server worker-1 worker-2; do
  python3 - "$work/$f.log" <<'PY' || { echo "rehearse: $f log is not JSON lines"; exit 1; }
import json, sys
lines = [l for l in open(sys.argv[1]) if l.strip()]
for l in lines:
    json.loads(l)
print(f"ok: {sys.argv[1].rsplit('/', 1)[-1]}: {len(lines)} JSON log lines")
PY
done
ok=1
echo "rehearsal passed in $(( $(date +%s) - started ))s"
