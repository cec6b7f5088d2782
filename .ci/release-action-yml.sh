#!/usr/bin/env bash
# Prints action.yml as a release tag publishes it: `runs.image` pinned to
# the pushed image by digest, so `uses: owner/arena-deploy-action@v1` pulls
# the prebuilt image instead of building the Dockerfile. Everything else
# is byte for byte the same.
#   bash .ci/release-action-yml.sh ghcr.io/<owner>/arena-deploy-action sha256:<64 hex> [action.yml]
# Refuses anything but a lowercase ghcr.io repository without a tag, a
# sha256 digest, and an action.yml whose runs section says
# `image: Dockerfile` exactly once (so a pinned file is never re-pinned).
set -euo pipefail
image=${1:?usage: release-action-yml.sh <ghcr.io/owner/name> <sha256:digest> [action.yml]}
digest=${2:?usage: release-action-yml.sh <ghcr.io/owner/name> <sha256:digest> [action.yml]}
file=${3:-action.yml}
if ! [[ $image =~ ^ghcr\.io/[a-z0-9]([a-z0-9._-]*[a-z0-9])?(/[a-z0-9]([a-z0-9._-]*[a-z0-9])?)+$ ]]; then
  echo "release-action-yml: image must be ghcr.io/<owner>/<name> in lowercase, without a tag or digest; got $image" >&2
  exit 2
fi
if ! [[ $digest =~ ^sha256:[0-9a-f]{64}$ ]]; then
  echo "release-action-yml: digest must be sha256:<64 lowercase hex>; got $digest" >&2
  exit 2
fi
# The runs section is the top-level `runs:` key up to the next top-level
# key; its image line is `  image: Dockerfile` (optionally quoted).
awk -v ref="docker://$image@$digest" -v file="$file" '
  /^[^ #]/ { inruns = ($0 ~ /^runs:[ \t]*$/) }
  inruns && /^  image:[ \t]*("Dockerfile"|'"'"'Dockerfile'"'"'|Dockerfile)[ \t]*$/ { line[NR] = "  image: " ref; n++; next }
  inruns && /^  image:/ { other = $0 }
  { line[NR] = $0 }
  END {
    if (n != 1) {
      if (other != "") printf "release-action-yml: %s already says%s; expected image: Dockerfile\n", file, substr(other, 9) > "/dev/stderr"
      else printf "release-action-yml: %s has %d `image: Dockerfile` lines in its runs section, expected 1\n", file, n > "/dev/stderr"
      exit 1
    }
    # Printed only when it is right: a failure leaves no half file.
    for (i = 1; i <= NR; i++) print line[i]
  }' "$file"
