# syntax=docker/dockerfile:1
# A CCP4 base image for worker.Dockerfile (CCP4_SOURCE=image): the CCP4 Linux tarball
# extracted to /opt/ccp4 and set up in place. Build it once per CCP4 release:
#
#   tar -xzf ccp4-9.0-linux64.tar.gz --dereference ...   # or pass the tarball as is:
#   docker build -f deploy/docker/ccp4-base.Dockerfile --build-arg CCP4_TARBALL=ccp4-9.0-linux64.tar.gz \
#     -t <registry>/i2server/ccp4-base:9 <directory holding the tarball>
#
# The tarball comes from CCP4 under its licence; it is not part of this repository.

FROM debian:bookworm-slim
ARG CCP4_TARBALL
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates tar gzip bzip2 xz-utils \
      libgl1 libglu1-mesa libxext6 libxrender1 libsm6 libice6 libfontconfig1 libgomp1 \
 && rm -rf /var/lib/apt/lists/*
COPY ${CCP4_TARBALL} /tmp/ccp4.tar
RUN mkdir -p /opt/ccp4 \
 && tar -xf /tmp/ccp4.tar -C /opt/ccp4 --strip-components=1 \
 && rm /tmp/ccp4.tar \
 && cd /opt/ccp4 && ./BINARY.setup --run-from-script
