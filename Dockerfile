# One static binary on an empty base. The reference adapter is a link to it
# (the binary serves the adapter protocol when invoked under that name), and
# CA roots are compiled in (x509roots/fallback).
#
# `docker build .` and `podman build .` compile it from source, with no
# build argument: what `uses: ./`, `@main`, forks and act (which always
# rebuilds local actions) run. Every builder builds it as it is: BuildKit,
# Docker's classic builder and Podman 4 / Buildah 1.28, which cannot take a
# stage's name from an ARG (`FROM ${ARG}` fails there: "image not known").
# Releases package prebuilt binaries with .ci/release.Dockerfile instead;
# its final image is this one's (same files, links, ENV and ENTRYPOINT), and
# .ci/run builds both with podman and compares them.
FROM golang:1.26-bookworm AS source
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY cmd ./cmd
COPY internal ./internal
# Empty: the binary names the commit it was built from (internal/buildinfo).
ARG VERSION=""
ENV CGO_ENABLED=0
# nodemo leaves out the demo and its GitHub emulator; nethttpomithttp2
# leaves out net/http's bundled HTTP/2 (0.37 MB): GitHub's API, the results
# service and blob storage all speak HTTP/1.1, and the action's calls are
# sequential, so HTTP/2's multiplexing buys nothing here.
RUN mkdir -p /out \
 && go build -tags nodemo,nethttpomithttp2 -trimpath -ldflags="-s -w -X main.version=${VERSION}" -o /out/arena-deploy ./cmd/action \
 && ln -s arena-deploy /out/promptarena-deploy-local

FROM scratch
COPY --from=source /out/ /usr/local/bin/
ENV PATH=/usr/local/bin
ENTRYPOINT ["/usr/local/bin/arena-deploy"]
