# syntax=docker/dockerfile:1
# Two static binaries on an empty base: the action and the reference
# adapter. CA roots are compiled into the action (x509roots/fallback).
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY cmd ./cmd
COPY internal ./internal
ARG VERSION=dev
ENV CGO_ENABLED=0
RUN go build -tags nodemo -trimpath -ldflags="-s -w -X main.version=${VERSION}" -o /out/arena-deploy ./cmd/action \
 && go build -trimpath -ldflags="-s -w -X main.version=${VERSION}" -o /out/promptarena-deploy-local ./cmd/promptarena-deploy-local

FROM scratch
COPY --from=build /out/arena-deploy /usr/local/bin/arena-deploy
COPY --from=build /out/promptarena-deploy-local /usr/local/bin/promptarena-deploy-local
ENV PATH=/usr/local/bin
ENTRYPOINT ["/usr/local/bin/arena-deploy"]
