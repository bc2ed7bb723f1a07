# syntax=docker/dockerfile:1
# The i2server worker image: the binary, the upstream runner (ccp4i2 in CCP4's Python, with
# NumPy 1.x) and CCP4, which comes from one of two places (build argument CCP4_SOURCE, the
# same choice as applications.bicep's ccp4Source):
#
#   image  CCP4 baked in from a CCP4 base image (deploy/docker/ccp4-base.Dockerfile builds one
#          from the CCP4 Linux tarball). Large image, no start-up delay.
#   share  CCP4 on the Azure Files share "ccp4", put there once by the ccp4-setup job, which
#          runs this image's setup-ccp4-share.sh. Small image.
#
#   docker build -f deploy/docker/worker.Dockerfile --build-arg CCP4_SOURCE=image \
#     --build-arg CCP4_BASE_IMAGE=<registry>/i2server/ccp4-base:9 -t <registry>/i2server/worker:<tag> .
#   docker build -f deploy/docker/worker.Dockerfile --build-arg CCP4_SOURCE=share \
#     -t <registry>/i2server/worker:<tag> .

ARG RUST_VERSION=1.95
ARG CCP4_SOURCE=image
ARG CCP4_BASE_IMAGE=i2server/ccp4-base:latest
ARG CCP4I2_VERSION=3.0.1

FROM rust:${RUST_VERSION}-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p i2server \
 && install -D target/release/i2server /out/i2server

# CCP4 in the image: ccp4i2 goes into CCP4's own Python here, at build time (never at start-up,
# never on a network share), with NumPy < 2 as CCP4's compiled modules need.
FROM ${CCP4_BASE_IMAGE} AS ccp4-image
ARG CCP4I2_VERSION
RUN /opt/ccp4/bin/ccp4-python -m pip install --no-cache-dir "ccp4i2==${CCP4I2_VERSION}" "numpy<2"
ENV CCP4=/opt/ccp4 \
    CCP4I2_PYTHON=/opt/ccp4/bin/ccp4-python \
    CLIBD_MON=/opt/ccp4/lib/data/monomers/

# CCP4 on the share: the libraries CCP4's programs link against, and the setup script.
FROM debian:bookworm-slim AS ccp4-share
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl tar gzip bzip2 xz-utils \
      libgl1 libglu1-mesa libxext6 libxrender1 libsm6 libice6 libfontconfig1 libgomp1 \
 && rm -rf /var/lib/apt/lists/*

FROM ccp4-${CCP4_SOURCE}
COPY --from=build /out/i2server /usr/local/bin/i2server
COPY --chmod=0755 deploy/docker/setup-ccp4-share.sh /usr/local/lib/i2server/setup-ccp4-share.sh
RUN (getent passwd i2server >/dev/null || useradd --uid 10001 --user-group --no-create-home --home-dir /var/lib/i2server i2server) \
 && mkdir -p /var/lib/i2server && chown 10001:10001 /var/lib/i2server
ENV CCP4I2_HOME=/var/lib/i2server \
    I2SERVER_WORKERS=1 \
    HOME=/var/lib/i2server
USER 10001:10001
# A worker has no HTTP port: its health is the doctor's verdict (CCP4, runner Python, database).
HEALTHCHECK --interval=5m --timeout=60s --start-period=30s --retries=1 \
  CMD ["/usr/local/bin/i2server", "doctor"]
ENTRYPOINT ["/usr/local/bin/i2server"]
CMD ["worker"]
