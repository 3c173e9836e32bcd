#!/usr/bin/env bash
# Remove the application from minikube (the banking-app namespace, volumes included),
# or with --delete the whole minikube cluster.
#
#   scripts/minikube-down.sh            # or: just minikube-down
#   scripts/minikube-down.sh --delete   # minikube delete
set -euo pipefail

profile="${MINIKUBE_PROFILE:-minikube}"
namespace="banking-app"

usage() {
	echo "usage: $0 [--delete]" >&2
	exit 2
}

delete_cluster=false
case "${1:-}" in
"") ;;
--delete) delete_cluster=true ;;
-h | --help) usage ;;
*) usage ;;
esac

if "$delete_cluster"; then
	echo "==> deleting minikube profile $profile"
	minikube --profile "$profile" delete
else
	echo "==> deleting namespace $namespace (its PersistentVolumeClaims and data go with it)"
	kubectl --context "$profile" delete namespace "$namespace" --ignore-not-found --wait=true
fi
