# syntax=docker/dockerfile:1.7
#
# tracegate: one image, one binary, every role. docker-compose.yml runs it as
# the gateway (`gateway`), the edge agent (`edge`), the chaincode service
# (`chaincode`) and the device simulator (`sim`):
#
#   docker build -t tracegate:latest .
#   docker run --rm tracegate:latest --help
#
# Runtime base: debian-slim rather than distroless, for two reasons.
#   - Health. The image serves four roles with different health endpoints
#     (gateway :8080/healthz, edge :9090/healthz, chaincode: a TCP port,
#     sim: none), so the image has no HEALTHCHECK of its own; each compose
#     service declares one, and `tracegate` has no health-probe subcommand,
#     so the probes need curl (HTTP) and bash (/dev/tcp for the chaincode port).
#   - Secrets. Passwords reach the edge and the gateway as files under
#     /run/secrets; a two-line /bin/sh wrapper in docker-compose.yml turns
#     them into the edge's TRACEGATE_EDGE_MQTT_PASSWORD or merges them into
#     the gateway's configuration, since neither loader reads a password file.
# Both could go (distroless/static, about 20 MB smaller) once tracegate can
# probe its own health and read secrets from files.

ARG GO_VERSION=1.26
ARG RUNTIME_IMAGE=debian:trixie-slim

FROM --platform=$BUILDPLATFORM golang:${GO_VERSION} AS build
WORKDIR /src
# Pure Go (Badger, Fiber, paho, mochi, fabric-gateway): a static binary that
# cross-compiles for the target platform without cgo.
ENV CGO_ENABLED=0 GOFLAGS=-trimpath
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod \
    go mod download
COPY . .
ARG TARGETOS
ARG TARGETARCH
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -ldflags="-s -w" -o /out/tracegate ./cmd/tracegate

FROM ${RUNTIME_IMAGE}
ARG VERSION=dev
ARG REVISION=unknown
LABEL org.opencontainers.image.title="tracegate" \
      org.opencontainers.image.description="IoT supply-chain traceability gateway for medical supplies: edge agent, gateway and portal, Fabric chaincode, device simulator" \
      org.opencontainers.image.source="https://github.com/tracegate/tracegate" \
      org.opencontainers.image.documentation="https://github.com/tracegate/tracegate/blob/main/deploy/README.md" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.licenses="Apache-2.0"
# ca-certificates: HTTPS uploads and ssl:// brokers; tzdata: local time
# zones in reports; curl: the compose healthchecks (see above).
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl tzdata \
 && rm -rf /var/lib/apt/lists/*
# A fixed, unprivileged UID/GID: docker-compose.yml and deploy/README.md
# hand key files to 10001 (Fabric identities, secrets), and the named volumes
# are created owned by it from the directories below.
RUN groupadd --system --gid 10001 tracegate \
 && useradd --system --uid 10001 --gid tracegate --no-create-home \
      --home-dir /var/lib/tracegate --shell /usr/sbin/nologin tracegate \
 && install -d -o tracegate -g tracegate -m 0750 \
      /var/lib/tracegate /var/lib/tracegate/edge /run/tracegate
COPY --from=build /out/tracegate /usr/local/bin/tracegate
USER 10001:10001
WORKDIR /var/lib/tracegate
# 8080 gateway and portal, 9090 edge health/metrics, 9999 chaincode service.
EXPOSE 8080 9090 9999
ENTRYPOINT ["tracegate"]
CMD ["--help"]
