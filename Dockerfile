# The runtime image of function-modelcache.
#   docker build -t function-modelcache:v0.1.0 .
#   crossplane xpkg build --package-root=package --embed-runtime-image=function-modelcache:v0.1.0
# The hydration Jobs' image is built beside it from hydrator/Dockerfile, with
# the same version tag (docs/hydrator-image.md).
# scripts/check-runtime.sh proves, without Docker, that the runtime stage's
# package list (package/runtime-packages.txt) suffices for the binary.
# The Swift version everything here is built and tested with (README, CI).
ARG SWIFT_IMAGE=swift:6.3.1-bookworm

FROM ${SWIFT_IMAGE} AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends libgrpc++-dev libprotobuf-dev libyaml-dev pkg-config \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# Swift runtime and Foundation linked statically; gRPC and libyaml stay shared.
# Package.resolved pins the dependencies; the binary is stripped.
RUN swift build -c release --static-swift-stdlib --product function-modelcache \
 && install -m 0755 "$(swift build -c release --show-bin-path)/function-modelcache" /function-modelcache \
 && strip /function-modelcache

FROM debian:bookworm-slim
# The function's version (FunctionVersion.current): the image tag
# and this label say the same; the hydrator's image carries the same one.
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="function-modelcache" \
      org.opencontainers.image.description="Crossplane composition function: model caches staged on every inference cluster" \
      org.opencontainers.image.version="${VERSION}"
COPY package/runtime-packages.txt /tmp/runtime-packages.txt
RUN apt-get update \
 && grep -v '^#' /tmp/runtime-packages.txt | xargs apt-get install -y --no-install-recommends \
 && rm -rf /var/lib/apt/lists/* /tmp/runtime-packages.txt
COPY --from=build /function-modelcache /usr/local/bin/function-modelcache
# Crossplane runs functions as UID 2000.
USER 2000:2000
EXPOSE 9443
# No default arguments: in a cluster the pod gets only TLS_SERVER_CERTS_DIR;
# crossplane render runs the image with a lone --insecure.
ENTRYPOINT ["/usr/local/bin/function-modelcache"]
