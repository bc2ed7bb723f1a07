#!/usr/bin/env bash
# Step 2 of the Azure deployment (and every release): build the images in the registry,
# deploy the one-off jobs, run migrations (and, with CCP4 on a share, the CCP4 set-up job)
# and wait for them, then deploy the server and worker apps.
#
# usage: deploy-applications.sh [--dry-run] [--skip-build]
# environment:
#   RESOURCE_GROUP (required), PREFIX (default i2server)
#   TAG            image tag (required; never "latest"), e.g. $(date -u +%Y%m%d-%H%M%S)
#   AAD_TENANT_ID, AAD_CLIENT_ID   the Entra ID app registration the server accepts tokens for
#   ALLOWED_GROUPS optional comma list of Entra ID group object ids
#   INGRESS_EXTERNAL true (default) or false (internal only; put the web app or a gateway in front)
#   CCP4_SOURCE    image (default) or share;  CCP4_BASE_IMAGE for image (e.g. <registry>/i2server/ccp4-base:9)
#   CCP4_TARBALL_URL, CCP4_VERSION  for share: where the ccp4-setup job downloads CCP4 from, and its directory name
#   WORKER_SCALER  postgresql (default) or servicebus;  WORKER_MAX (default 10)
#   WEB_IMAGE      deploy the upstream web app with this image
set -euo pipefail
source "$(dirname "$0")/common.sh"
SKIP_BUILD=0
for a in "${ARGS[@]}"; do [ "$a" = --skip-build ] && SKIP_BUILD=1; done

need_var RESOURCE_GROUP "the resource group deploy-infrastructure.sh used"
need_var TAG "an image tag such as \$(date -u +%Y%m%d-%H%M%S)"
need_var AAD_TENANT_ID "the Entra ID tenant id"
need_var AAD_CLIENT_ID "the Entra ID application (client) id"
[ "$TAG" = latest ] && { echo "deploy-applications.sh: use a unique TAG, not latest" >&2; exit 2; }
PREFIX="${PREFIX:-i2server}"
CCP4_SOURCE="${CCP4_SOURCE:-image}"
outputs="$HERE/outputs-$RESOURCE_GROUP.json"

out() { # an output of infrastructure.bicep
  if [ -f "$outputs" ]; then
    python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]]["value"])' "$outputs" "$1"
  elif [ "$DRY_RUN" = 1 ]; then
    echo "<$1>"
  else
    echo "deploy-applications.sh: $outputs is missing: run deploy-infrastructure.sh first" >&2; exit 2
  fi
}
registry_name="$(out registryName)"
registry="$(out registryServer)"
server_image="$registry/i2server/server:$TAG"
worker_image="$registry/i2server/worker:$TAG"

# 1. Images, built by the registry (no local Docker needed).
if [ "$SKIP_BUILD" = 0 ]; then
  az_run acr build --registry "$registry_name" --image "i2server/server:$TAG" \
    --file "$REPO/deploy/docker/server.Dockerfile" "$REPO"
  worker_args=(--build-arg "CCP4_SOURCE=$CCP4_SOURCE")
  [ -n "${CCP4_BASE_IMAGE:-}" ] && worker_args+=(--build-arg "CCP4_BASE_IMAGE=$CCP4_BASE_IMAGE")
  az_run acr build --registry "$registry_name" --image "i2server/worker:$TAG" \
    --file "$REPO/deploy/docker/worker.Dockerfile" "${worker_args[@]}" "$REPO"
fi

params=(
  prefix="$PREFIX"
  environmentId="$(out environmentId)" identityId="$(out identityId)"
  keyVaultUri="$(out keyVaultUri)" registryServer="$registry"
  postgresFqdn="$(out postgresFqdn)" dbUser="$(out dbUser)" dbName="$(out dbName)"
  serviceBusNamespace="$(out serviceBusNamespace)" serviceBusQueue="$(out serviceBusQueue)"
  sessionTokenSecret="$(out sessionTokenSecret | tr '[:upper:]' '[:lower:]')"
  serverImage="$server_image" workerImage="$worker_image"
  ingressExternal="${INGRESS_EXTERNAL:-true}"
  aadTenantId="$AAD_TENANT_ID" aadClientId="$AAD_CLIENT_ID" allowedGroups="${ALLOWED_GROUPS:-}"
  workerScaler="${WORKER_SCALER:-postgresql}" workerMaxReplicas="${WORKER_MAX:-10}"
  ccp4Source="$CCP4_SOURCE" ccp4Version="${CCP4_VERSION:-ccp4-9}" ccp4TarballUrl="${CCP4_TARBALL_URL:-}"
  deployWeb="$([ -n "${WEB_IMAGE:-}" ] && echo true || echo false)" webImage="${WEB_IMAGE:-}"
  buildTimestamp="$(date -u +%Y-%m-%dT%H:%M:%SZ)" gitCommit="$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)"
)

deploy() { # deployApps=true|false
  az_run deployment group create --resource-group "$RESOURCE_GROUP" --name "$PREFIX-applications" \
    --template-file "$HERE/applications.bicep" --parameters "${params[@]}" deployApps="$1" --output none
}

# Start a Container Apps job and wait for its execution to succeed.
run_job() {
  local job="$1" execution status
  execution="$(az_run containerapp job start --name "$job" --resource-group "$RESOURCE_GROUP" --query name --output tsv)"
  [ "$DRY_RUN" = 1 ] && { az_run containerapp job execution show --name "$job" --resource-group "$RESOURCE_GROUP" \
    --job-execution-name "<execution>" --query properties.status --output tsv; return 0; }
  for _ in $(seq 1 720); do
    status="$(az_run containerapp job execution show --name "$job" --resource-group "$RESOURCE_GROUP" \
      --job-execution-name "$execution" --query properties.status --output tsv 2>/dev/null)"
    case "$status" in
      Succeeded) echo "$job: succeeded" >&2; return 0 ;;
      Failed|Stopped|Degraded) echo "$job: $status; logs: az containerapp job logs show --name $job --resource-group $RESOURCE_GROUP --execution $execution --container ${job#"$PREFIX"-}" >&2; return 1 ;;
    esac
    sleep 10
  done
  echo "$job: still not finished after 2 hours" >&2; return 1
}

# 2. The jobs first, then migrations (the apps never migrate), then CCP4 onto the share.
deploy false
run_job "$PREFIX-migrate"
if [ "$CCP4_SOURCE" = share ]; then run_job "$PREFIX-ccp4-setup"; fi

# 3. The apps.
deploy true
server_fqdn="$(az_run containerapp show --name "$PREFIX-server" --resource-group "$RESOURCE_GROUP" \
  --query properties.configuration.ingress.fqdn --output tsv)"
echo "server: https://${server_fqdn:-<fqdn>}/api/ccp4i2/" >&2
echo "next: deploy/azure/verify.sh --token <token> --worker-app $PREFIX-worker --resource-group $RESOURCE_GROUP https://${server_fqdn:-<fqdn>}" >&2
