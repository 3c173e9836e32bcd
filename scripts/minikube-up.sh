#!/usr/bin/env bash
# Start minikube (with a CNI that enforces NetworkPolicies and the nginx Ingress addon),
# build both images inside it, deploy kustomize/overlays/minikube and wait for every rollout.
#
#   scripts/minikube-up.sh            # or: just minikube-up
#
# Environment: MINIKUBE_PROFILE (default minikube), MINIKUBE_CPUS (4), MINIKUBE_MEMORY (6g),
# MINIKUBE_CNI (calico; the default bridge CNI ignores NetworkPolicies).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

profile="${MINIKUBE_PROFILE:-minikube}"
namespace="banking-app"
host="banking.local"

need() {
	command -v "$1" >/dev/null 2>&1 || {
		echo "minikube-up: $1 is not installed" >&2
		exit 1
	}
}
need minikube
need kubectl

mk() { minikube --profile "$profile" "$@"; }

if mk status >/dev/null 2>&1; then
	echo "==> minikube profile $profile is running"
else
	echo "==> starting minikube (profile $profile)"
	mk start \
		--cpus "${MINIKUBE_CPUS:-4}" \
		--memory "${MINIKUBE_MEMORY:-6g}" \
		--cni "${MINIKUBE_CNI:-calico}"
fi

echo "==> enabling the nginx Ingress addon"
mk addons enable ingress

echo "==> building images inside minikube"
# --build-opt=target=X becomes `--target=X` of the runtime's build; the Dockerfile's cache
# mounts need BuildKit. (Alternative: eval "$(minikube docker-env)" and `docker build --target`.)
for target in api web; do
	mk image build -t "banking-$target:dev" \
		--build-opt="target=$target" --build-env=DOCKER_BUILDKIT=1 .
done

echo "==> waiting for the ingress controller"
kubectl --context "$profile" -n ingress-nginx wait --for=condition=Ready pod \
	--selector=app.kubernetes.io/component=controller --timeout=180s

existing="$(kubectl --context "$profile" -n "$namespace" get deployment banking-backend \
	--ignore-not-found --output name)"

echo "==> deploying kustomize/overlays/minikube"
kubectl --context "$profile" apply -k kustomize/overlays/minikube

# A rebuilt image keeps the tag `dev`: restart running pods so they pick up the new build.
if [[ -n "$existing" ]]; then
	kubectl --context "$profile" -n "$namespace" rollout restart \
		deployment/banking-backend deployment/banking-frontend
fi

echo "==> waiting for rollouts"
for workload in statefulset/postgres deployment/redis deployment/banking-backend deployment/banking-frontend; do
	kubectl --context "$profile" -n "$namespace" rollout status "$workload" --timeout=300s
done

ip="$(mk ip)"
cat <<MSG

Deployed. Add this line to /etc/hosts (needs root):

    $ip $host

then open http://$host/ (GraphiQL: http://$host/graphql).
On macOS or Windows with the docker driver, run \`minikube tunnel\` in another terminal
and use 127.0.0.1 instead of $ip.
MSG
