# syntax=docker/dockerfile:1
#
# Two images from one file, one per process of the split (Kubernetes) mode:
#   docker build --target api -t banking-api:dev .   # GraphQL API, port 8000
#   docker build --target web -t banking-web:dev .   # web pages, port 8080, talks to API_URL
# minikube (scripts/minikube-up.sh does this, then checks the image exists: minikube reports
# success even for a failed build). -f is needed: .dockerignore keeps this file out of the
# context minikube packs, and `minikube image build` takes the target as a build option:
#   minikube image build -f Dockerfile -t banking-api:dev --build-opt=target=api .
# Without any registry (CI, this repository's tests): scripts/images.sh, see docs/kubernetes.md.
#
# The web image is built without the `embedded` feature, so it never contains the api.
# Cargo's registry and target directory live in BuildKit cache mounts: rebuilds are incremental.

ARG RUST_VERSION=1

# ---- sources ---------------------------------------------------------------------------
FROM rust:${RUST_VERSION}-bookworm AS source
WORKDIR /src
COPY . .

# ---- build: api ------------------------------------------------------------------------
FROM source AS build-api
RUN --mount=type=cache,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,target=/usr/local/cargo/git,sharing=locked \
    --mount=type=cache,target=/src/target,sharing=locked \
    cargo build --release --locked -p api --bin banking-api \
 && install -D -m 0755 target/release/banking-api /out/banking-api

# ---- build: web ------------------------------------------------------------------------
FROM source AS build-web
RUN --mount=type=cache,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,target=/usr/local/cargo/git,sharing=locked \
    --mount=type=cache,target=/src/target,sharing=locked \
    cargo build --release --locked -p web --no-default-features --bin banking-web \
 && install -D -m 0755 target/release/banking-web /out/banking-web

# ---- runtime: api ----------------------------------------------------------------------
# distroless/cc: glibc, libgcc, CA certificates; no shell, no package manager.
FROM gcr.io/distroless/cc-debian12:nonroot AS api
COPY --from=build-api /out/banking-api /usr/local/bin/banking-api
ENV API_BIND=0.0.0.0:8000
# 9090: metrics (METRICS_BIND, set by the manifests), never behind a Service.
EXPOSE 8000 9090
# Numeric, so Kubernetes can verify runAsNonRoot; matches the manifests' runAsUser.
USER 10001:10001
# `banking-api` serves; `banking-api migrate` applies migrations and exits.
ENTRYPOINT ["/usr/local/bin/banking-api"]

# ---- runtime: web ----------------------------------------------------------------------
FROM gcr.io/distroless/cc-debian12:nonroot AS web
COPY --from=build-web /out/banking-web /usr/local/bin/banking-web
# Templates and the stylesheet are compiled into the binary: nothing is read from disk.
ENV WEB_BIND=0.0.0.0:8080
EXPOSE 8080 9090
USER 10001:10001
ENTRYPOINT ["/usr/local/bin/banking-web"]
