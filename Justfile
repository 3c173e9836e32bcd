# Routine commands. `just --list` shows them all.

set shell := ["bash", "-euo", "pipefail", "-c"]

# List the recipes.
default:
    @just --list

# Run the all-in-one (web + api, SQLite, in-process cache, demo users) on :8080.
dev:
    cargo run --release

# Run the api alone against DATABASE_URL / REDIS_URL from the environment.
api:
    cargo run --release -p api --bin banking-api

# Apply migrations to DATABASE_URL.
migrate:
    cargo run --release -p api --bin banking-api -- migrate

# Every test, with PostgreSQL and Redis started when they are down (what CI runs).
test *ARGS:
    scripts/test {{ARGS}}

# Fail on an import cycle between the files of a crate; prints each with the lines that make it.
cycles:
    python3 scripts/import-cycles.py

# Format, lint and test: what must pass before a commit.
check:
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets -- -D warnings
    scripts/test

# Rewrite schema.graphql from the code (a test fails when it is stale).
schema:
    cargo run -q -p api --bin banking-api -- schema > schema.graphql

# Render both Kustomize overlays.
k8s-build:
    kubectl kustomize kustomize/overlays/minikube
    kubectl kustomize kustomize/overlays/minikube-gateway
    kubectl kustomize kustomize/overlays/production

# Validate the rendered manifests against the Kubernetes schemas and our policies.
k8s-validate:
    python3 scripts/k8s-check.py

# Start minikube with ingress, build the images into it, deploy and wait.
minikube-up:
    scripts/minikube-up.sh

# Test scripts/minikube-up.sh against stand-ins for minikube and kubectl.
minikube-test:
    python3 scripts/minikube-up-test.py

# Build the runtime images banking-api:dev and banking-web:dev with podman, without a registry.
images:
    scripts/images.sh

# Build the images and run them as the pods would (uid 10001, read-only root, no capabilities).
containers:
    python3 scripts/containers.py

# Remove the deployment from minikube.
minikube-down:
    scripts/minikube-down.sh

# The longer reliability run: a minute of bank-invariant load per setup, 50,000 fuzzed requests and 100,000 documents from the GraphQL grammar.
chaos SECONDS="60" ITERATIONS="50000" DOCUMENTS="100000":
    CHAOS_SECONDS={{SECONDS}} FUZZ_ITERATIONS={{ITERATIONS}} GRAMMAR_ITERATIONS={{DOCUMENTS}} scripts/test -p api --test api -- bank_invariant:: faults:: hostile_input:: account_security:: --nocapture

# Benchmarks against the machine's limits (pgbench, a trivial axum handler) at 10,000 customers; writes docs/benchmarks.md.
bench *ARGS:
    python3 scripts/bench/run.py {{ARGS}}

# The same at 10^4 and 10^6 customers (10^7 postings, seeded in bulk), uniform and Zipf-skewed, with memory, concurrency and EXPLAIN; writes docs/benchmarks.md.
bench-scale:
    python3 scripts/bench/run.py --scale

# The deployment on one machine: 2 api + 2 web (release) from the rendered manifests, behind a real nginx.
e2e:
    python3 scripts/e2e.py

# What live subscriptions cost a release api: RSS per idle subscription (and how many fit in the pod's 512 MiB), commit-to-delivery p50/p99 across two replicas.
bench-subscriptions:
    cargo build --release -p api --bin banking-api
    python3 scripts/bench/subscriptions.py

# Regenerate api/graphiql/dist (the GraphiQL playground's files) from the pinned npm packages.
graphiql-assets:
    cd api/graphiql && npm ci --ignore-scripts --no-audit --no-fund
    node scripts/graphiql-assets.mjs
