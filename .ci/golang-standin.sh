#!/usr/bin/env bash
# Makes a local image named like the Dockerfile's base, golang:1.26-bookworm,
# from this machine's Go toolchain, when that image is neither present nor
# pullable: no registry but Go's module proxy and Debian's is reachable here.
#   bash .ci/golang-standin.sh         prints the name it made, or nothing
# It holds what the Dockerfile's source stage uses: the same Go version
# (`go version` is checked against the tag), /bin/sh (dash) with mkdir and
# ln and their C library, CA roots for the module proxy, and the official
# image's ENV (PATH, GOPATH, GOTOOLCHAIN=local) and WORKDIR. Debian's other
# packages are not in it; the build needs none of them.
set -euo pipefail
base=golang:1.26-bookworm
if podman image exists "$base" || podman pull -q "$base" >/dev/null 2>&1; then
  exit 0
fi
goroot=$(go env GOROOT)
case "$(go env GOVERSION)" in
  go1.26|go1.26.*) ;;
  *) echo "golang-standin: this machine has $(go env GOVERSION), the Dockerfile wants Go 1.26" >&2; exit 1 ;;
esac
rootfs=$(mktemp -d)
trap 'rm -rf "$rootfs"' EXIT
mkdir -p "$rootfs/usr/local/go" "$rootfs/etc/ssl/certs" "$rootfs/tmp" "$rootfs/go" "$rootfs/root"
chmod 1777 "$rootfs/tmp"
# The toolchain without its tests, docs and API lists.
for d in bin pkg/tool pkg/include src lib go.env VERSION; do
  [ -e "$goroot/$d" ] || continue
  mkdir -p "$rootfs/usr/local/go/$(dirname "$d")"
  cp -a "$goroot/$d" "$rootfs/usr/local/go/$d"
done
for f in /usr/bin/dash /bin/mkdir /bin/ln $(ldd /usr/bin/dash /bin/mkdir /bin/ln | grep -o '/[^ ]*\.so[^ ]*' | sort -u); do
  mkdir -p "$rootfs$(dirname "$f")"
  cp -L "$f" "$rootfs$f"
done
ln -s /usr/bin/dash "$rootfs/bin/sh"
cp -L /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/"
name="localhost/$base"
tar -C "$rootfs" -cf - . | podman import -q \
  --change 'ENV PATH=/go/bin:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV GOPATH=/go' --change 'ENV GOTOOLCHAIN=local' --change 'ENV HOME=/root' --change 'WORKDIR /go' \
  - "$name" >/dev/null
echo "$name"
