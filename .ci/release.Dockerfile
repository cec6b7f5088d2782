# The release's image: the binaries .ci/release-build.sh built (static,
# stamped with the version, for linux/amd64 and linux/arm64) in the final
# image of the Dockerfile at the root, which builds them from source. The
# two differ only in where the binaries come from; .ci/run builds both with
# podman and checks that their files, links, ENV and ENTRYPOINT agree.
#   docker buildx build -f .ci/release.Dockerfile --platform linux/amd64,linux/arm64 .
# (context: the repository's root, after `bash .ci/release-build.sh <version> dist`)
FROM scratch
ARG TARGETOS
ARG TARGETARCH
# The folder, not its files: COPY keeps the link only inside a folder.
COPY dist/${TARGETOS}-${TARGETARCH}/ /usr/local/bin/
ENV PATH=/usr/local/bin
ENTRYPOINT ["/usr/local/bin/arena-deploy"]
