#!/usr/bin/env bash
# Start minikube (with a CNI that enforces NetworkPolicies and the nginx Ingress addon),
# build both images inside it, check they are there, deploy kustomize/overlays/minikube,
# wait for every rollout and say how to reach banking.local from this operating system.
#
#   scripts/minikube-up.sh            # or: just minikube-up
#
# Environment: MINIKUBE_PROFILE (default minikube), MINIKUBE_CPUS (4), MINIKUBE_MEMORY (6g;
# less than 4g leaves PostgreSQL, Redis, 4 app pods, Calico and ingress-nginx short),
# MINIKUBE_CNI (calico; the default bridge CNI ignores NetworkPolicies).
# Tested against stand-ins for minikube and kubectl by scripts/minikube-up-test.py.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

profile="${MINIKUBE_PROFILE:-minikube}"
namespace="banking-app"
host="banking.local"

say() { echo "==> $*"; }
# One line on stderr that says what to do, then stop.
stop() {
	echo "minikube-up: $*" >&2
	exit 1
}

command -v minikube >/dev/null 2>&1 || stop "minikube is not installed: see https://minikube.sigs.k8s.io/docs/start/"
command -v kubectl >/dev/null 2>&1 || stop "kubectl is not installed: see https://kubernetes.io/docs/tasks/tools/"

mk() { minikube --profile "$profile" "$@"; }
k() { kubectl --context "$profile" "$@"; }

if mk status >/dev/null 2>&1; then
	say "minikube profile $profile is running"
else
	say "starting minikube (profile $profile, ${MINIKUBE_CPUS:-4} CPUs, ${MINIKUBE_MEMORY:-6g} memory)"
	mk start \
		--cpus "${MINIKUBE_CPUS:-4}" \
		--memory "${MINIKUBE_MEMORY:-6g}" \
		--cni "${MINIKUBE_CNI:-calico}"
fi

say "enabling the nginx Ingress addon"
mk addons enable ingress

# Whether the cluster's container runtime holds this image (name:tag), whatever registry
# prefix the runtime lists it under (docker.io/library/…, localhost/…).
# The list is read whole first: `… | grep -q` could end minikube with SIGPIPE, which pipefail
# would turn into "absent".
image_present() {
	local listed line
	listed="$(mk image ls 2>/dev/null)" || return 1
	while IFS= read -r line; do
		[[ "$line" == "$1" || "$line" == */"$1" ]] && return 0
	done <<<"$listed"
	return 1
}

# `minikube image build` exits 0 even when the build fails (minikube issues #16576, #12556),
# so its exit status proves nothing. Each image is built under a tag no earlier build used;
# only a build that really produced an image can make that tag exist. Then it becomes :dev.
# -f: minikube packs the context itself and honours .dockerignore, which leaves the
# Dockerfile out; -f adds it back. --build-opt=target=X becomes `--target=X`.
build_id="build-$(date +%Y%m%d%H%M%S)-$$"
for target in api web; do
	image="banking-$target"
	say "building $image:dev (Dockerfile target $target) inside minikube"
	mk image build -f Dockerfile -t "$image:$build_id" \
		--build-opt="target=$target" --build-env=DOCKER_BUILDKIT=1 .
	image_present "$image:$build_id" ||
		stop "building $image:dev produced no image (minikube reports success anyway): run \`minikube -p $profile image build -f Dockerfile -t $image:dev --build-opt=target=$target .\` and fix the first error it prints"
	mk image tag "$image:$build_id" "$image:dev"
	mk image rm "$image:$build_id" >/dev/null 2>&1 || true
done
# imagePullPolicy is Never: a missing image would only show up as ErrImageNeverPull later.
for target in api web; do
	image_present "banking-$target:dev" ||
		stop "banking-$target:dev is not in minikube's container runtime (\`minikube -p $profile image ls\`): build it with \`minikube -p $profile image build -f Dockerfile -t banking-$target:dev --build-opt=target=$target .\` and run this again"
done

# The addon's controller must be ready, or applying the Ingress fails in its admission webhook.
say "waiting for the ingress controller"
k -n ingress-nginx rollout status deployment/ingress-nginx-controller --timeout=300s

existing="$(k -n "$namespace" get deployment banking-backend --ignore-not-found --output name)"

say "deploying kustomize/overlays/minikube"
applied=false
for attempt in 1 2 3 4 5; do
	# The webhook can refuse for a few seconds after the controller reports ready.
	if k apply -k kustomize/overlays/minikube; then
		applied=true
		break
	fi
	say "apply failed (attempt $attempt of 5); retrying in 10 s"
	sleep "${MINIKUBE_UP_RETRY_SECONDS:-10}"
done
"$applied" || stop "kubectl apply -k kustomize/overlays/minikube kept failing: read its errors above (\`kubectl -n ingress-nginx get pods\` for the webhook)"

# A rebuilt image keeps the tag `dev`: restart running pods so they pick up the new build.
if [[ -n "$existing" ]]; then
	k -n "$namespace" rollout restart deployment/banking-backend deployment/banking-frontend
fi

say "waiting for rollouts"
for workload in statefulset/postgres deployment/redis deployment/banking-backend deployment/banking-frontend; do
	k -n "$namespace" rollout status "$workload" --timeout=300s
done

# How a browser on this machine reaches the Ingress depends on the operating system: with
# minikube's docker driver (the default on macOS and Windows) the node's IP lives inside a
# VM that the host cannot route to, and `minikube tunnel` forwards 127.0.0.1:80/443 instead.
os="$(uname -s)"
case "$os" in
Linux)
	if grep -qi microsoft /proc/version 2>/dev/null; then os=wsl; else os=linux; fi
	;;
Darwin) os=macos ;;
MINGW* | MSYS* | CYGWIN*) os=windows ;;
*) os=other ;;
esac

echo
echo "Deployed. The ingress controller is ready: kubectl --context $profile -n ingress-nginx get pods"
case "$os" in
linux | other)
	ip="$(mk ip)"
	cat <<MSG

Linux: add this line to /etc/hosts (needs root):

    $ip $host

    echo "$ip $host" | sudo tee -a /etc/hosts

then open http://$host/ (GraphiQL: http://$host/graphql).
MSG
	;;
macos)
	cat <<MSG

macOS: the minikube IP is not reachable from the host with the docker driver.
1. In another terminal, keep this running (it asks for your password: ports 80 and 443):

    minikube -p $profile tunnel

2. Add this line to /etc/hosts:

    echo "127.0.0.1 $host" | sudo tee -a /etc/hosts

then open http://$host/ (GraphiQL: http://$host/graphql).
Names ending in .local are tried over mDNS (Bonjour) first: the first request can take about
5 seconds. \`curl --resolve $host:80:127.0.0.1 http://$host/\` skips the lookup.
MSG
	;;
windows | wsl)
	cat <<MSG

Windows: the minikube IP is not reachable from the host with the docker driver.
1. In another terminal opened as Administrator (ports 80 and 443), keep this running:

    minikube -p $profile tunnel

2. As Administrator, add this line to C:\\Windows\\System32\\drivers\\etc\\hosts
   (the file every Windows browser reads, also when minikube runs from WSL):

    127.0.0.1 $host

then open http://$host/ (GraphiQL: http://$host/graphql).
MSG
	;;
esac
