#!/usr/bin/env bash
# Start-up as users pay it, with podman (as root, runc; see .ci/run):
#   bash bench/image.sh [runs]
# - the image's size, uncompressed and as pulled (gzip layers);
# - building the Dockerfile from source, cold (--no-cache) and with every
#   layer cached, versus packaging the prebuilt binaries and copying the
#   prebuilt image from an OCI layout (a pull without the network);
# - a plan of testdata/example in the container (start to exit) versus the
#   same binary on the host.
# No registry is reachable here, so golang:1.26-bookworm cannot be pulled:
# unless it is present, .ci/golang-standin.sh makes a stand-in from this
# machine's Go toolchain (the same Go version; a shell and the C library for
# RUN; no Debian packages). Its pull (297 MB compressed) is not part of the
# cold figure.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
runs=${1:-10}
flags=(--runtime runc --ulimit nofile=1000:1000 --ulimit nproc=1000:1000)
arch=$(go env GOARCH)
# Lower case: podman names an image pulled from oci:<dir> after the dir.
work="/tmp/arena-bench-$$"
mkdir -p "$work"
tag="localhost/arena-deploy:bench-$$"
src="localhost/arena-deploy:bench-src-$$"
standin=""
cleanup() {
  podman rmi -f "$tag" "$src" "${id:-}" >/dev/null 2>&1 || true
  [ -z "$standin" ] || podman rmi -f "$standin" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(go version | cut -d' ' -f3-4), $(podman --version)"

# Prebuilt: the binaries as the release builds them, then the image.
bash .ci/release-build.sh v0.0.0-bench "$root/dist" >/dev/null 2>&1
t0=$(now)
podman build -q --no-cache --platform "linux/$arch" -f .ci/release.Dockerfile -t "$tag" . >/dev/null
t1=$(now)
echo "prebuilt: package the binaries (podman build, no cache): $(secs "$t0" "$t1") s"
size=$(podman image inspect --format '{{.Size}}' "$tag")
podman push -q --compression-format gzip "$tag" "oci:$work/layout:bench" >/dev/null
compressed=$(find "$work/layout/blobs" -type f -printf '%s\n' | awk '{ s += $1 } END { print s }')
echo "image size: $size bytes uncompressed, $compressed bytes as pulled (gzip layers, config, manifest)"
# The pulled layers must not be in the store already: remove the image,
# pull it back, and keep the pulled one for the runs below.
pulls=()
id=""
id=$(podman image inspect --format '{{.Id}}' "$tag")
for _ in 1 2 3; do
  podman rmi -f "$id" >/dev/null
  t0=$(now)
  id=$(podman pull -q "oci:$work/layout:bench")
  t1=$(now)
  pulls+=("$(secs "$t0" "$t1")")
done
podman tag "$id" "$tag"
echo "prebuilt: pull from a local OCI layout (no network), 3 runs: ${pulls[*]} s"

# From source.
standin=$(bash .ci/golang-standin.sh)
[ -z "$standin" ] || echo "golang:1.26-bookworm is not reachable: a stand-in from this machine's $(go env GOVERSION) (.ci/golang-standin.sh)"
t0=$(now)
podman build -q --no-cache --network host -t "$src" . >/dev/null
t1=$(now)
echo "source: podman build --no-cache (go mod download + compile; base image present): $(secs "$t0" "$t1") s"
t0=$(now)
podman build -q --network host -t "$src" . >/dev/null
t1=$(now)
echo "source: podman build, every layer cached: $(secs "$t0" "$t1") s"

# A plan of the example project: container start to exit versus the host.
host=$(mktemp -d) ctr=$(mktemp -d)
cp -r testdata/example/. "$host/"
cp -r testdata/example/. "$ctr/"
bin="$root/dist/linux-$arch"
export PATH="$bin:$PATH"
h=() c=()
for _ in $(seq "$runs"); do
  rm -rf "$host/.promptarena" "$ctr/.promptarena"
  t0=$(now)
  (cd "$host" && env -i PATH="$bin" HOME="$host" "$bin/arena-deploy" plan --comment=false >/dev/null)
  t1=$(now)
  podman run --rm "${flags[@]}" --network host -v "$ctr:/github/workspace" --workdir /github/workspace "$tag" plan --comment=false >/dev/null
  t2=$(now)
  h+=("$(secs "$t0" "$t1")") c+=("$(secs "$t1" "$t2")")
done
echo "plan of testdata/example, median of $runs: host $(printf '%s\n' "${h[@]}" | median) s, container $(printf '%s\n' "${c[@]}" | median) s"
echo "  host runs: ${h[*]}"
echo "  container runs: ${c[*]}"
rm -rf "$host" "$ctr"
