#!/usr/bin/env bash
# Build the runtime images banking-api:dev and banking-web:dev with podman, without any
# registry: FROM scratch plus what the binaries need, taken from this machine.
#
#   scripts/images.sh            # cargo build --release (as CI and scripts/e2e.py do), then the images
#   IMAGES_SKIP_CARGO=1 scripts/images.sh   # use the release binaries already built
#
# Each image holds: the release binary, the shared libraries it links (from `ldd`, the dynamic
# loader included), the CA certificates, /etc/passwd and /etc/group with uid/gid 10001, and an
# empty /tmp. That is what gcr.io/distroless/cc-debian12 (the Dockerfile's base, for real
# clusters) provides too, minus its other files; see docs/kubernetes.md for the difference.
# Used by scripts/containers.py, which runs them the way the pods run them.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

stop() {
	echo "images: $*" >&2
	exit 1
}

command -v podman >/dev/null 2>&1 || stop "podman is not installed: apt-get install podman runc"
# Cargo's target directory: $CARGO_TARGET_DIR (scripts/test exports it), else what cargo
# says (a cargo config's build.target-dir, else ./target), where `cargo build` puts them.
target_dir="${CARGO_TARGET_DIR:-}"
if [[ "$target_dir" != /* ]]; then
	target_dir="$(cargo metadata --format-version 1 --no-deps |
		python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
fi
release="$target_dir/release"
if [[ -z "${IMAGES_SKIP_CARGO:-}" ]]; then
	cargo build --release --locked -p api -p web --bins
fi
certs=/etc/ssl/certs/ca-certificates.crt
[[ -s "$certs" ]] || stop "$certs is missing: apt-get install ca-certificates"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# The files one binary needs at run time, copied into rootfs at the same paths.
make_rootfs() {
	local binary="$1" rootfs="$2" lib real
	[[ -x "$binary" ]] || stop "$binary is missing: run cargo build --release -p api -p web"
	install -D -m 0755 "$binary" "$rootfs/usr/local/bin/$(basename "$binary")"
	# `ldd` lines: "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x…)", "/lib64/ld-linux-x86-64.so.2 (0x…)",
	# "linux-vdso.so.1 (0x…)" (in the kernel, nothing to copy), "libx.so => not found".
	if ldd "$binary" | grep -q "not found"; then
		stop "$binary links a library this machine does not have: $(ldd "$binary" | grep "not found" | tr -s ' \t' ' ')"
	fi
	while read -r lib; do
		# The file itself (Debian's names are symlinks), under the name the loader asks for,
		# with its mode: the dynamic loader must stay executable, or exec fails.
		real="$(readlink -f "$lib")"
		install -D -m "$(stat -c %a "$real")" "$real" "$rootfs$lib"
	done < <(ldd "$binary" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }')
	install -D -m 0644 "$certs" "$rootfs/etc/ssl/certs/ca-certificates.crt"
	mkdir -p "$rootfs/etc"
	# The user the pods run as (runAsUser/runAsGroup 10001); no shell, no home.
	echo "banking:x:10001:10001:banking:/nonexistent:/sbin/nologin" >"$rootfs/etc/passwd"
	echo "banking:x:10001:" >"$rootfs/etc/group"
	# Mount point of the pod's /tmp emptyDir (a tmpfs under podman); the root stays read-only.
	install -d -m 1777 "$rootfs/tmp"
}

revision="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
for name in api web; do
	binary="$release/banking-$name"
	ctx="$work/$name"
	make_rootfs "$binary" "$ctx/rootfs"
	case "$name" in
	api) port=8000 bind="API_BIND=0.0.0.0:8000" ;;
	web) port=8080 bind="WEB_BIND=0.0.0.0:8080" ;;
	esac
	cat >"$ctx/Containerfile" <<EOF
FROM scratch
COPY rootfs/ /
ENV $bind
EXPOSE $port 9090
# Numeric, like the Dockerfile's: Kubernetes can verify runAsNonRoot.
USER 10001:10001
ENTRYPOINT ["/usr/local/bin/banking-$name"]
EOF
	echo "==> banking-$name:dev from $binary ($(find "$ctx/rootfs" -type f | wc -l) files)"
	podman build --quiet --pull=never --label "org.opencontainers.image.revision=$revision" \
		-t "banking-$name:dev" -f "$ctx/Containerfile" "$ctx" >/dev/null
	# The build must have produced the image under its name, whatever podman printed.
	podman image exists "banking-$name:dev" || stop "podman built no banking-$name:dev"
done
podman images --filter reference=banking-api:dev --filter reference=banking-web:dev \
	--format '{{.Repository}}:{{.Tag}} {{.ID}} {{.Size}}'
