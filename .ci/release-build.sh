#!/usr/bin/env bash
# Builds what a release ships, the same way in the release workflow and in
# the CI dry run:
#   bash .ci/release-build.sh <version> <out>
# <out>/linux-<arch>/        the image's payload for the Dockerfile's
#                            .ci/release.Dockerfile (the action, and the
#                            reference adapter as a link to it)
# <out>/release/             the CLI as static binaries for linux and macOS,
#                            amd64 and arm64, one .tar.gz each; for Windows
#                            on amd64 (arm64 Windows runs it emulated), a
#                            .zip holding arena-deploy.exe; and
#                            checksums.txt (sha256sum -c format)
# Every binary is static (CGO_ENABLED=0), stamped with <version>, and built
# with -trimpath so the same commit gives the same bytes; the archives are
# made so that their bytes depend only on the binaries' (fixed owner, mode,
# time and order). Needs zip for the Windows archive.
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
command -v zip >/dev/null || { echo "release-build: zip is needed for the Windows archive (apt-get install zip)" >&2; exit 1; }
for target in linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64; do
  os=${target%/*} arch=${target#*/}
  name="arena-deploy_${version}_${os}_${arch}"
  exe=arena-deploy
  [ "$os" != windows ] || exe=arena-deploy.exe
  mkdir -p "$stage/$name"
  GOOS=$os GOARCH=$arch CGO_ENABLED=0 go build -tags nodemo,nethttpomithttp2 -trimpath \
    -ldflags="-s -w -X main.version=${version}" -o "$stage/$name/$exe" ./cmd/action
  # The README and what its links lead to (docs/, examples/), so the
  # archive's README has no dead links.
  cp README.md "$stage/$name/"
  mkdir -p "$stage/$name/docs" "$stage/$name/examples"
  cp docs/*.md "$stage/$name/docs/"
  cp examples/*.yml examples/README.md "$stage/$name/examples/"
  if [ "$os" = windows ]; then
    # zip, as Windows users expect: no extra attributes (-X), no folder
    # entries (-D), files in a fixed order, mode and time (DOS time, UTC).
    find "$stage/$name" -type f -exec chmod 0644 {} + && chmod 0755 "$stage/$name/$exe"
    find "$stage/$name" -type f -exec env TZ=UTC touch -d '1980-01-01 00:00:00' {} +
    rm -f "$out/release/$name.zip"
    (cd "$stage" && find "$name" -type f | LC_ALL=C sort | TZ=UTC zip -q -X -D -9 "$out/release/$name.zip" -@)
  else
    # Fixed owner, mode and time, sorted: the archive's bytes depend only on
    # the binaries' bytes.
    tar --sort=name --owner=0 --group=0 --numeric-owner --mtime='1970-01-01 00:00:00Z' \
      -C "$stage" -cf - "$name" | gzip -n -9 >"$out/release/$name.tar.gz"
  fi
  if [ "$os" = linux ]; then
    mkdir -p "$out/linux-$arch"
    cp "$stage/$name/arena-deploy" "$out/linux-$arch/arena-deploy"
    ln -s arena-deploy "$out/linux-$arch/promptarena-deploy-local"
  fi
done
(cd "$out/release" && sha256sum -- *.tar.gz *.zip >checksums.txt)
cat "$out/release/checksums.txt"
