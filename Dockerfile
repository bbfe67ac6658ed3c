# syntax=docker/dockerfile:1
#
# provgate's container image: `provgate serve` on 0.0.0.0:8080 (HTTP) with the
# embedded Sigstore trust root and the committed default policy bundle, or with
# the configuration the Helm chart mounts (HTTPS on 8443).
#
#   docker build -t provgate:0.1.0 .
#   docker run --rm -p 8080:8080 provgate:0.1.0
#   docker run --rm -v "$PWD:/work:ro" provgate:0.1.0 verify /work/pkg.tgz --bundle /work/pkg.tgz.json
#
# Base images are pinned by digest (the multi-platform index), never by tag
# alone. Both digests are those docker-library publishes for the official node
# images, as recorded in github.com/docker-library/repo-info
# (repos/node/remote/24-bookworm.md and 24-bookworm-slim.md at
# commit e2e97043fc3e24482c19623a66ea8fc74d2546e0: Node.js 24.19.0, built 2026-08-25).
# The index digest covers every platform (amd64, arm64, ppc64le).
# Refresh them deliberately, together, after reviewing the new images:
#   docker buildx imagetools inspect node:24-bookworm
#   docker buildx imagetools inspect node:24-bookworm-slim
# (or crane digest node:24-bookworm-slim) and replace both digests.

# ---- build: install production dependencies with the full Node 24 image ----
FROM node:24-bookworm@sha256:ffeee58a257b390b80b9b656cba440bbc3116c1bc03139c31318f9d9c29a8975 AS build
WORKDIR /app
ENV NODE_ENV=production \
    npm_config_update_notifier=false \
    npm_config_fund=false \
    npm_config_audit=false
COPY package.json package-lock.json ./
# Production dependencies only, exactly as locked. No install scripts run: no
# runtime dependency needs one, and none may fetch anything at build time.
RUN npm ci --omit=dev --ignore-scripts \
 && npm cache clean --force
# Node runs the TypeScript sources directly (type stripping): there is no
# compile step, the sources are the build output.
COPY bin/provgate.js bin/
COPY src/ src/
COPY policies/bundle.tar.gz policies/
# Fail the build, not the first request, when the entrypoint cannot load.
RUN node bin/provgate.js --help > /dev/null

# ---- runtime: slim Node 24, production files only, non-root ----
FROM node:24-bookworm-slim@sha256:a9f5f7c91a432850b2a8a7797adf5eadb6c733ceed61167806cee7ea7fbc29df

ARG VERSION=0.1.0
ARG REVISION=unknown
ARG CREATED=unknown
LABEL org.opencontainers.image.title="provgate" \
      org.opencontainers.image.description="Policy-as-code admission gate: verifies Sigstore/SLSA provenance offline and decides with Rego" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.base.name="docker.io/library/node:24-bookworm-slim" \
      org.opencontainers.image.base.digest="sha256:a9f5f7c91a432850b2a8a7797adf5eadb6c733ceed61167806cee7ea7fbc29df"

ENV NODE_ENV=production
WORKDIR /app
# Copied as root and left root-owned (COPY's default): the process, running as
# another user, can read its code, trust root and default policy but not change them.
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules/ node_modules/
COPY --from=build /app/bin/ bin/
COPY --from=build /app/src/ src/
COPY --from=build /app/policies/ policies/

# A numeric UID/GID that exists nowhere else in the image, so Kubernetes'
# runAsNonRoot can check it without resolving a user name.
USER 10001:10001
EXPOSE 8080 8443
# The image's node, directly (no npm, no shell, no docker-entrypoint.sh): it
# receives SIGTERM itself and shuts down gracefully.
ENTRYPOINT ["node", "/app/bin/provgate.js"]
CMD ["serve", "--host", "0.0.0.0"]
