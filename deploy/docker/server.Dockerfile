# syntax=docker/dockerfile:1
# The i2server API image: one binary on a distroless base (glibc, CA certificates, no shell),
# running as a non-root user, plus the ccp4i2 task definitions and the class cache built from
# them at build time (so the server never needs Python or CCP4).
#
#   docker build -f deploy/docker/server.Dockerfile -t <registry>/i2server/server:<tag> .
#
# Build context: the repository root.

ARG RUST_VERSION=1.95
ARG CCP4I2_VERSION=3.0.1

FROM rust:${RUST_VERSION}-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p i2server \
 && install -D target/release/i2server /out/i2server

# The upstream package's task catalogue (def.xml files, registry) and i2server's cache of its
# parameter classes, extracted once here with the package's own Python.
FROM python:3.11-slim-bookworm AS catalogue
ARG CCP4I2_VERSION
RUN python -m venv /opt/venv \
 && /opt/venv/bin/pip install --no-cache-dir "ccp4i2==${CCP4I2_VERSION}" "numpy<2"
COPY --from=build /out/i2server /usr/local/bin/i2server
RUN pkg="$(/opt/venv/bin/python -c 'import ccp4i2, os; print(os.path.dirname(ccp4i2.__file__))')" \
 && mkdir -p /opt/ccp4i2 && cp -a "$pkg" /opt/ccp4i2/ccp4i2 \
 && CCP4I2_HOME=/var/lib/i2server CCP4I2_ROOT=/opt/ccp4i2/ccp4i2 CCP4I2_PYTHON=/opt/venv/bin/python \
    i2server tasks --refresh > /dev/null \
 && ls /var/lib/i2server/cache/cdata_classes-*.json

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /out/i2server /usr/local/bin/i2server
# COPY keeps modification times, which the class cache's key includes.
COPY --from=catalogue /opt/ccp4i2/ccp4i2 /opt/ccp4i2/ccp4i2
COPY --from=catalogue --chown=65532:65532 /var/lib/i2server /var/lib/i2server
ENV CCP4I2_HOME=/var/lib/i2server \
    CCP4I2_ROOT=/opt/ccp4i2/ccp4i2 \
    I2SERVER_HOST=0.0.0.0 \
    I2SERVER_PORT=8000 \
    I2SERVER_WORKERS=0
# distroless "nonroot": uid/gid 65532.
USER 65532:65532
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["/usr/local/bin/i2server", "healthcheck", "/api/ccp4i2/health/"]
ENTRYPOINT ["/usr/local/bin/i2server"]
CMD ["serve"]
