#!/bin/sh
# Put CCP4 on the ccp4 share once (the ccp4-setup Container Apps job runs this):
#   setup-ccp4-share.sh <tarball URL> <target directory on the share>
# Extracts the tarball, runs CCP4's own set-up in place, installs ccp4i2 and NumPy 1.x into
# CCP4's Python, and writes a marker; a second run with the marker present does nothing.
set -eu
url="${1:?usage: setup-ccp4-share.sh <tarball URL> <target directory>}"
target="${2:?usage: setup-ccp4-share.sh <tarball URL> <target directory>}"
ccp4i2_version="${CCP4I2_VERSION:-3.0.1}"
if [ -f "$target/.i2server-ready" ]; then
  echo "CCP4 already set up in $target"; exit 0
fi
mkdir -p "$target"
echo "downloading and extracting $url into $target"
curl -fsSL "$url" | tar -xz -C "$target" --strip-components=1
cd "$target"
./BINARY.setup --run-from-script
"$target/bin/ccp4-python" -m pip install --no-cache-dir --progress-bar off "ccp4i2==$ccp4i2_version" "numpy<2"
date -u +%Y-%m-%dT%H:%M:%SZ > "$target/.i2server-ready"
echo "CCP4 ready in $target"
