#!/usr/bin/env bash
# Builds what a release ships, the same way in the release workflow and in
# the CI dry run:
#   bash .ci/release-build.sh <version> <out>
# <out>/linux-<arch>/        the image's payload for the Dockerfile's
#                            BINARIES=prebuilt (the action, and the
#                            reference adapter as a link to it)
# <out>/release/             the CLI as static binaries for linux and macOS,
#                            amd64 and arm64, one .tar.gz each, and
#                            checksums.txt (sha256sum -c format)
# Every binary is static (CGO_ENABLED=0), stamped with <version>, and built
# with -trimpath so the same commit gives the same bytes.
set -euo pipefail
cd "$(dirname "$0")/.."
version=${1:?usage: release-build.sh <version> <out>}
out=${2:?usage: release-build.sh <version> <out>}
mkdir -p "$out"
out=$(cd "$out" && pwd)
rm -rf "$out/release" "$out/linux-amd64" "$out/linux-arm64"
mkdir -p "$out/release"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
for target in linux/amd64 linux/arm64 darwin/amd64 darwin/arm64; do
  os=${target%/*} arch=${target#*/}
  name="arena-deploy_${version}_${os}_${arch}"
  mkdir -p "$stage/$name"
  GOOS=$os GOARCH=$arch CGO_ENABLED=0 go build -tags nodemo,nethttpomithttp2 -trimpath \
    -ldflags="-s -w -X main.version=${version}" -o "$stage/$name/arena-deploy" ./cmd/action
  cp README.md "$stage/$name/"
  # Fixed owner, mode and time, sorted: the archive's bytes depend only on
  # the binaries' bytes.
  tar --sort=name --owner=0 --group=0 --numeric-owner --mtime='1970-01-01 00:00:00Z' \
    -C "$stage" -cf - "$name" | gzip -n -9 >"$out/release/$name.tar.gz"
  if [ "$os" = linux ]; then
    mkdir -p "$out/linux-$arch"
    cp "$stage/$name/arena-deploy" "$out/linux-$arch/arena-deploy"
    ln -s arena-deploy "$out/linux-$arch/promptarena-deploy-local"
  fi
done
(cd "$out/release" && sha256sum -- *.tar.gz >checksums.txt)
cat "$out/release/checksums.txt"
