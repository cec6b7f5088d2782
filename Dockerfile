# One static binary on an empty base. The reference adapter is a link to it
# (the binary serves the adapter protocol when invoked under that name), and
# CA roots are compiled in (x509roots/fallback).
#
# Where the binaries come from is the only thing that varies:
#   docker build .                              compiles them from source
#                                               (what `uses: ./` and forks do)
#   docker build --build-arg BINARIES=prebuilt  packages dist/linux-<arch>/,
#                                               built beforehand with
#                                               CGO_ENABLED=0 (release, CI)
# Both end in the same final stage, so CI tests the image the release ships.
# Podman 4 (buildah) skips the source stage unless the argument is given:
# there, build from source with --build-arg BINARIES=source.
ARG BINARIES=source

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

FROM scratch AS prebuilt
ARG TARGETOS
ARG TARGETARCH
# The folder, not its files: COPY keeps the link only inside a folder.
COPY dist/${TARGETOS}-${TARGETARCH}/ /out/

FROM ${BINARIES} AS binaries

FROM scratch
COPY --from=binaries /out/ /usr/local/bin/
ENV PATH=/usr/local/bin
ENTRYPOINT ["/usr/local/bin/arena-deploy"]
