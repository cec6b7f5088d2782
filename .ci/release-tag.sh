#!/usr/bin/env bash
# Moves a release tag onto a commit whose action.yml runs the pushed image
# by digest (release-action-yml.sh), and the major tag (v1) with it when
# this is the newest release of that major that is not a pre-release.
#   bash .ci/release-tag.sh <tag> <ghcr.io/owner/name> <sha256:digest>
# Run in a checkout of the tag with its tags fetched. It changes only the
# local repository and prints the refs to force-push; the new commit's
# parent is the tagged one, so main keeps `image: Dockerfile`.
set -euo pipefail
cd "$(dirname "$0")/.."
tag=${1:?usage: release-tag.sh <tag> <image> <digest>}
image=${2:?usage: release-tag.sh <tag> <image> <digest>}
digest=${3:?usage: release-tag.sh <tag> <image> <digest>}
if ! [[ $tag =~ ^v([0-9]+)\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]]; then
  echo "release-tag: $tag is not a version tag (v1.2.3 or v1.2.3-rc.1)" >&2; exit 2
fi
major="v${BASH_REMATCH[1]}"
prerelease=${BASH_REMATCH[2]}
if [ "$(git rev-parse HEAD)" != "$(git rev-parse "$tag^{commit}")" ]; then
  echo "release-tag: HEAD is not $tag; check the tag out first" >&2; exit 2
fi
message=$(git tag -l --format='%(contents)' "$tag")
[ -n "$message" ] || message="$tag"
pinned=$(mktemp)
trap 'rm -f "$pinned"' EXIT
bash .ci/release-action-yml.sh "$image" "$digest" action.yml >"$pinned"
# Detached: the release commit belongs to the tags only, never to a branch.
git checkout -q --detach
cat "$pinned" >action.yml
git -c user.name='github-actions[bot]' -c user.email='41898282+github-actions[bot]@users.noreply.github.com' \
  commit -q -m "Release $tag: action.yml runs $image@$digest" -- action.yml
git tag -f -a "$tag" -m "$message" >/dev/null
refs="refs/tags/$tag"
newest=$(git tag -l "$major.*" | grep -E '^v[0-9]+\.[0-9]+\.[0-9]+$' | sort -V | tail -n 1)
if [ -z "$prerelease" ] && [ "$newest" = "$tag" ]; then
  git tag -f "$major" >/dev/null
  refs="$refs refs/tags/$major"
else
  echo "release-tag: $major stays where it is ($tag is a pre-release or not the newest $major.x)" >&2
fi
echo "$refs"
