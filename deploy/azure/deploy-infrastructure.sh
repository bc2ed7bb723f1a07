#!/usr/bin/env bash
# Step 1 of the Azure deployment: the resource group and infrastructure.bicep (VNet,
# Container Apps environment, PostgreSQL with a private endpoint, Key Vault, storage with
# the projects share, registry, identity; optionally the ccp4 share and Service Bus).
# Writes the deployment's outputs to deploy/azure/outputs-<resource group>.json for
# deploy-applications.sh.
#
# usage: deploy-infrastructure.sh [--dry-run]
# environment:
#   RESOURCE_GROUP (required), LOCATION (default uksouth), PREFIX (default i2server)
#   DB_PASSWORD       PostgreSQL admin password (default: generated; kept only in Key Vault)
#   SESSION_TOKEN     optional fixed bearer token stored in Key Vault (for verify.sh, automation)
#   CCP4_ON_SHARE     true: create the ccp4 share (workers built with CCP4_SOURCE=share)
#   DEPLOY_SERVICE_BUS true: create a Service Bus namespace and queue (alternative scaler)
set -euo pipefail
source "$(dirname "$0")/common.sh"

need_var RESOURCE_GROUP "the resource group to create or reuse"
LOCATION="${LOCATION:-uksouth}"
PREFIX="${PREFIX:-i2server}"
DB_PASSWORD="${DB_PASSWORD:-$(head -c 24 /dev/urandom | base64 | tr -d '/+=' | cut -c1-28)Aa1}"
SESSION_TOKEN="${SESSION_TOKEN:-}"
SECRETS+=("$DB_PASSWORD" "$SESSION_TOKEN")
outputs="$HERE/outputs-$RESOURCE_GROUP.json"

az_run group create --name "$RESOURCE_GROUP" --location "$LOCATION" --output none
az_run deployment group create \
  --resource-group "$RESOURCE_GROUP" \
  --name "$PREFIX-infrastructure" \
  --template-file "$HERE/infrastructure.bicep" \
  --parameters prefix="$PREFIX" location="$LOCATION" \
    dbAdminPassword="$DB_PASSWORD" sessionToken="$SESSION_TOKEN" \
    ccp4OnShare="${CCP4_ON_SHARE:-false}" deployServiceBus="${DEPLOY_SERVICE_BUS:-false}" \
  --query properties.outputs --output json > "${outputs}.tmp" || { rm -f "${outputs}.tmp"; exit 1; }
if [ "$DRY_RUN" = 1 ]; then
  rm -f "${outputs}.tmp"
  echo "(dry run: outputs would be written to $outputs)" >&2
else
  mv "${outputs}.tmp" "$outputs"
  echo "infrastructure ready; outputs in $outputs" >&2
fi
