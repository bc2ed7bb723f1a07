#!/usr/bin/env bash
# Check a running i2server deployment end to end, through its API only, so it works against
# any base URL (Azure, a local rehearsal, a laptop):
#   1. GET health/ answers 200 with the database connected;
#   2. GET projects/ answers a JSON list;
#   3. a real CCP4-free job: create a project, create_task freerflag, upload rnase25_fsigf.mtz
#      into F_SIGF choosing F,SIGF, run, poll until Finished (a worker ran it: the server's own
#      worker count is 0 in the templates);
#   4. worker scale-out is visible: /metrics shows the job held by a worker while it runs and,
#      with --worker-app, the Container Apps worker replica count goes above zero.
#
# usage: verify.sh [--dry-run] [--token TOKEN] [--mtz FILE] [--timeout SECS] [--jobs N]
#                  [--worker-app NAME --resource-group RG] BASE_URL
#   BASE_URL   e.g. https://i2server-server.<env>.<region>.azurecontainerapps.io or http://127.0.0.1:8000
#   --token    bearer token (also $I2SERVER_TOKEN): an Entra ID access token or the session token
#   --mtz      rnase25_fsigf.mtz (default: found in $CCP4I2_ROOT or $I2_CCP4I2_ROOT, else in the
#              ccp4i2 package of python3)
#   --jobs     run N freerflag jobs at once (default 1): with several workers, they share them
#   --dry-run  print every request and az command, run nothing
set -euo pipefail

dry_run=0
token="${I2SERVER_TOKEN:-}"
mtz=""
timeout=600
njobs=1
worker_app=""
resource_group=""
base=""
while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) dry_run=1 ;;
    --token) token="$2"; shift ;;
    --mtz) mtz="$2"; shift ;;
    --timeout) timeout="$2"; shift ;;
    --jobs) njobs="$2"; shift ;;
    --worker-app) worker_app="$2"; shift ;;
    --resource-group) resource_group="$2"; shift ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    -*) echo "verify.sh: unknown option $1" >&2; exit 2 ;;
    *) base="$1" ;;
  esac
  shift
done
[ -n "$base" ] || { echo "verify.sh: give the base URL (e.g. http://127.0.0.1:8000)" >&2; exit 2; }
base="${base%/}"
api="$base/api/ccp4i2"

say() { printf '%s\n' "$*"; }
fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }
pass() { printf 'ok: %s\n' "$*"; }

auth=()
[ -n "$token" ] && auth=(-H "Authorization: Bearer $token")

# curl wrapper: prints the request in dry-run mode; otherwise writes the body to $out and
# returns the status code on stdout.
out="$(mktemp)"
trap 'rm -f "$out"' EXIT
http() {
  local method="$1" url="$2"; shift 2
  if [ "$dry_run" = 1 ]; then
    say "curl -X $method $url $*" >&2
    echo 000
    return 0
  fi
  curl -sS -o "$out" -w '%{http_code}' -X "$method" "${auth[@]}" "$@" "$url" || echo 000
}
json() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2], {'d': d}))" "$out" "$1"; }
az_cmd() {
  if [ "$dry_run" = 1 ]; then say "az $*"; return 0; fi
  az "$@"
}

if [ -z "$mtz" ]; then
  for root in "${CCP4I2_ROOT:-}" "${I2_CCP4I2_ROOT:-}"; do
    [ -n "$root" ] && [ -f "$root/wrappers/freerflag/test_data/rnase25_fsigf.mtz" ] \
      && mtz="$root/wrappers/freerflag/test_data/rnase25_fsigf.mtz" && break
  done
fi
if [ -z "$mtz" ] && [ "$dry_run" = 0 ]; then
  mtz="$(python3 -c 'import ccp4i2, os; print(os.path.join(os.path.dirname(ccp4i2.__file__), "wrappers/freerflag/test_data/rnase25_fsigf.mtz"))' 2>/dev/null || true)"
fi
if [ "$dry_run" = 0 ] && [ ! -f "$mtz" ]; then
  fail "rnase25_fsigf.mtz not found: pass --mtz (it ships with the ccp4i2 package, wrappers/freerflag/test_data/)"
fi

# 1. health
code=$(http GET "$api/health/")
if [ "$dry_run" = 0 ]; then
  [ "$code" = 200 ] || fail "health/ answered $code: $(head -c 300 "$out")"
  [ "$(json 'd.get("database")')" = connected ] || fail "health/: database not connected: $(cat "$out")"
  pass "health/ 200, database connected"
fi

# 2. projects
code=$(http GET "$api/projects/")
if [ "$dry_run" = 0 ]; then
  [ "$code" = 200 ] || fail "projects/ answered $code (401/403: pass --token): $(head -c 300 "$out")"
  n=$(json 'len(d)') || fail "projects/ is not a JSON list"
  pass "projects/ 200, $n projects"
fi

# 3. freerflag jobs (several with --jobs N, to see workers share the queue)
name="verify-$(date -u +%Y%m%d%H%M%S)-$$"
code=$(http POST "$api/projects/" -H 'Content-Type: application/json' \
  --data "{\"name\": \"$name\", \"directory\": \"__default__\"}")
project=1
if [ "$dry_run" = 0 ]; then
  [ "$code" = 201 ] || fail "creating project $name answered $code: $(head -c 300 "$out")"
  project=$(json 'd["id"]')
  pass "project $name created (id $project)"
fi
new_job() { # prints the new job's id
  local code
  # A server that just started answers 503 until its task catalogue is loaded: wait for it.
  for _ in $(seq 1 60); do
    code=$(http POST "$api/projects/$project/create_task/" -H 'Content-Type: application/json' \
      --data '{"task_name": "freerflag"}')
    [ "$code" = 503 ] || break
    sleep 1
  done
  [ "$dry_run" = 1 ] && { echo 1; return; }
  [ "$code" = 200 ] || fail "create_task freerflag answered $code: $(head -c 300 "$out")"
  json 'd["data"]["new_job"]["id"]'
}
jobs=()
for _ in $(seq 1 "$njobs"); do
  job=$(new_job)
  [ "$dry_run" = 0 ] && pass "freerflag job $job created"
  code=$(http POST "$api/jobs/$job/upload_file_param/" \
    -F object_path=freerflag.inputData.F_SIGF -F 'column_selector=/*/*/[F,SIGF]' \
    -F "file=@${mtz:-rnase25_fsigf.mtz};filename=rnase25_fsigf.mtz")
  if [ "$dry_run" = 0 ]; then
    [ "$code" = 200 ] || fail "upload_file_param answered $code: $(head -c 300 "$out")"
    pass "rnase25_fsigf.mtz uploaded into job $job's F_SIGF (F,SIGF)"
  fi
  jobs+=("$job")
done
for job in "${jobs[@]}"; do
  code=$(http POST "$api/jobs/$job/run/")
  if [ "$dry_run" = 0 ]; then
    [ "$code" = 200 ] || fail "run answered $code: $(head -c 300 "$out")"
    pass "job $job queued"
  fi
done

# 4. poll; watch /metrics and the worker replicas meanwhile
max_running=0
max_replicas=0
replicas() {
  [ -n "$worker_app" ] || { echo 0; return; }
  az_cmd containerapp replica list --name "$worker_app" --resource-group "$resource_group" \
    --query 'length(@)' --output tsv 2>/dev/null || echo 0
}
if [ "$dry_run" = 1 ]; then
  http GET "$api/jobs/1/" >/dev/null
  http GET "$base/metrics" >/dev/null
  replicas >/dev/null
  exit 0
fi
deadline=$(( $(date +%s) + timeout ))
declare -A seen=()
declare -A done_=()
while [ "${#done_[@]}" -lt "${#jobs[@]}" ]; do
  for job in "${jobs[@]}"; do
    [ -n "${done_[$job]:-}" ] && continue
    code=$(http GET "$api/jobs/$job/")
    [ "$code" = 200 ] || fail "jobs/$job/ answered $code"
    status=$(json 'd["status"]')
    case " ${seen[$job]:-} " in *" $status "*) ;; *) seen[$job]="${seen[$job]:-} $status" ;; esac
    case "$status" in
      6) done_[$job]=1; pass "job $job Finished (statuses seen:${seen[$job]})" ;;
      5|4|10) fail "job $job ended with status $status (statuses seen:${seen[$job]})" ;;
    esac
  done
  mcode=$(curl -sS -o "$out.m" -w '%{http_code}' "${auth[@]}" "$base/metrics" || echo 000)
  if [ "$mcode" = 200 ]; then
    r=$(awk '$1 == "i2server_jobs_running" {print $2}' "$out.m")
    [ -n "$r" ] && [ "$r" -gt "$max_running" ] && max_running=$r
  fi
  rm -f "$out.m"
  rep=$(replicas); [ "${rep:-0}" -gt "$max_replicas" ] 2>/dev/null && max_replicas=$rep
  [ "${#done_[@]}" -lt "${#jobs[@]}" ] || break
  [ "$(date +%s)" -lt "$deadline" ] || fail "jobs not finished after ${timeout}s"
  sleep 1
done
for job in "${jobs[@]}"; do
  code=$(http GET "$api/files/?job=$job")
  [ "$code" = 200 ] || fail "files/?job=$job answered $code"
  json '[f["name"] for f in d if f.get("job_param_name") == "FREEROUT"][0]' >/dev/null \
    || fail "no FREEROUT file registered for job $job"
  case " ${seen[$job]} " in *" 3 "*) pass "job $job: FREEROUT.mtz registered; a worker held it (Running seen)" ;;
    *) pass "job $job: FREEROUT.mtz registered" ;; esac
done
[ "$max_running" -gt 0 ] && pass "/metrics showed at most $max_running job(s) running on workers at once"
if [ -n "$worker_app" ]; then
  [ "$max_replicas" -gt 0 ] || fail "worker app $worker_app never showed a replica"
  pass "worker app $worker_app scaled out to $max_replicas replica(s)"
fi
say "verify: all checks passed against $base"
