#!/usr/bin/env bash
# Prints every figure recorded in BENCHMARKS.md, in one run:
#   bash bench/run.sh > /tmp/bench.md
#
# - whole plan runs of the release binary as processes (bench/plans), with
#   the previous release's binary (PREV, a commit; built from a git worktree
#   outside this tree) in the same run, interleaved round by round;
# - the Go benchmarks, ROUNDS rounds, each round running every benchmark
#   once, so samples of A and B alternate instead of all of A then all of B;
#   the same comment benchmark source is run against the previous release;
# - the image payload's size.
# Each figure is the median (min–max) over the rounds. Load is noted at the
# start and the end.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
ROUNDS=${ROUNDS:-5}
BENCHTIME=${BENCHTIME:-5x}
# Benchmarks of a few milliseconds run more times a round: three or five
# runs of one are mostly its first, cold one.
BENCHTIME_FAST=${BENCHTIME_FAST:-50x}
PREV=${PREV:-04371a1}

tmp=$(mktemp -d /tmp/arena-bench.XXXXXX)
cleanup() {
  git -C "$root" worktree remove --force "$tmp/prev" >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT

build() { # build <src dir> <out>: the binary as the image ships it
  (cd "$1" && CGO_ENABLED=0 go build -tags nodemo,nethttpomithttp2 -trimpath -ldflags="-s -w" -o "$2" ./cmd/action)
}
git -C "$root" worktree add --detach "$tmp/prev" "$PREV" >/dev/null 2>&1
build "$root" "$tmp/new/arena-deploy"
build "$tmp/prev" "$tmp/prev-bin/arena-deploy"
# The same comment benchmark, on the previous release's renderer.
cp internal/comment/render_bench_test.go "$tmp/prev/internal/comment/zz_render_bench_test.go"

echo "Recorded $(date -u '+%Y-%m-%d %H:%M UTC'): $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(free -g | awk '/Mem/{print $2}') GiB, $(go version | cut -d' ' -f3-4); this tree at $(git rev-parse --short HEAD)$(git diff --quiet HEAD || echo ' (with uncommitted changes)'), previous release $PREV."
echo "Load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)."
echo

echo "### Plan runs as processes (bench/plans)"
echo
go build -o "$tmp/plans" ./bench/plans
[ "${PLANS:-1}" = 0 ] || "$tmp/plans" -bin "new=$tmp/new/arena-deploy" -bin "prev=$tmp/prev-bin/arena-deploy" -rounds "$ROUNDS" -samples "$tmp/samples.jsonl"
echo

echo "### Go benchmarks"
echo
fast='^(BenchmarkRenderComment10k|BenchmarkRenderSummary10k|BenchmarkRenderPlanDiff3000|BenchmarkDecodePlan10k)$'
slow='^(BenchmarkCompare10MB|BenchmarkCompareShapes|BenchmarkFreshPlan9MB|BenchmarkEncodePlanRequest9MB|BenchmarkParse9MB|BenchmarkContentDigest9MB|BenchmarkTreeDigest9MB|BenchmarkValid9MB|BenchmarkPlanRun50|BenchmarkAdapterOnly50|BenchmarkApplyRun50|BenchmarkAdapterApplyOnly50|BenchmarkPlanRun9MB)$'
benches="^(${fast:2:${#fast}-4}|${slow:2:${#slow}-4})\$"
mkdir -p "$tmp/tests"
# Test binaries run in their package's directory, as go test runs them.
dirs=() tests=() tags=()
pat=${benches#^}
pat=${pat%\$}
for d in $(grep -rlE --include='*_test.go' "func ${pat}\(" . | xargs -n1 dirname | sort -u); do
  dirs+=("$root/${d#./}") tests+=("$tmp/tests/${#tests[@]}.test") tags+=("")
  go test -c -o "${tests[-1]}" "$d"
done
dirs+=("$tmp/prev/internal/comment") tests+=("$tmp/tests/prev.test") tags+=(" (prev)")
(cd "$tmp/prev" && go test -c -o "$tmp/tests/prev.test" ./internal/comment)
for r in $(seq "$ROUNDS"); do
  for i in "${!tests[@]}"; do
    for pass in "$slow $BENCHTIME" "$fast $BENCHTIME_FAST"; do
      out=$(cd "${dirs[i]}" && "${tests[i]}" -test.run '^$' -test.bench "${pass% *}" -test.benchtime "${pass##* }" -test.benchmem 2>&1) || {
        echo "$out" >&2
        exit 1
      }
      echo "$out" | awk -v tag="${tags[i]}" '/^Benchmark/ { sub(/-[0-9]+$/, "", $1); $1=$1 tag; print }' >>"$tmp/bench.txt"
    done
  done
done
printf '| %-44s | %-22s | %s |\n' benchmark 'ms/op' 'median of the rest'
printf '|%s|%s|%s|\n' ---------------------------------------------- ------------------------ ------------------------------
awk '
  { name=$1; for (i=2; i<=NF && $i !~ /^[0-9]+$/; i++) name=name " " $i
    n[name]++; ms[name, n[name]]=$(i+1)/1e6
    for (j=i+3; j<NF; j+=2) { u=$(j+1); v=$j
      if (u=="B/op") { u="MB/op"; v=v/1e6 }
      if (u=="MB/s") continue
      key=name SUBSEP u; if (!(key in seen)) { seen[key]=1; units[name]=units[name] u "," }
      vals[name, u, n[name]]=v } }
  function med(a, k,  i, j, t, c) { c=k; for (i=1; i<=c; i++) s[i]=a[i]
    for (i=1; i<=c; i++) for (j=i+1; j<=c; j++) if (s[j]<s[i]) { t=s[i]; s[i]=s[j]; s[j]=t }
    lo=s[1]; hi=s[c]; return (c%2) ? s[(c+1)/2] : (s[c/2]+s[c/2+1])/2 }
  END { for (name in n) order[++m]=name
    for (i=1; i<=m; i++) for (j=i+1; j<=m; j++) if (order[j]<order[i]) { t=order[i]; order[i]=order[j]; order[j]=t }
    for (o=1; o<=m; o++) { name=order[o]; k=n[name]
      for (i=1; i<=k; i++) a[i]=ms[name, i]; md=med(a, k)
      cell=sprintf("%.2f (%.2f–%.2f)", md, lo, hi)
      extra=""; split(units[name], us, ",")
      for (u in us) if (us[u]!="") { for (i=1; i<=k; i++) a[i]=vals[name, us[u], i]; extra=extra sprintf("%.4g %s ", med(a, k), us[u]) }
      printf "| %-44s | %-22s | %s|\n", name, cell, extra } }' "$tmp/bench.txt"
echo
echo "Each row: $ROUNDS rounds of $BENCHTIME ($BENCHTIME_FAST for RenderComment10k, RenderSummary10k, RenderPlanDiff3000 and DecodePlan10k, a few milliseconds each); rows marked (prev) are the previous release's code running this tree's benchmark source."
echo
awk '$1=="BenchmarkRenderComment10k" { k = ($2=="(prev)") ? "prev" : "new"; v[k, ++n[k]] = ($2=="(prev)" ? $4 : $3)/1e6 }
  function med(k,  i, j, t, c) { c=n[k]; for (i=1; i<=c; i++) s[i]=v[k, i]
    for (i=1; i<=c; i++) for (j=i+1; j<=c; j++) if (s[j]<s[i]) { t=s[i]; s[i]=s[j]; s[j]=t }
    return (c%2) ? s[(c+1)/2] : (s[c/2]+s[c/2+1])/2 }
  END { if (n["new"]) printf "Target: the comment of a 10,000-change plan (RenderComment10k) in ≤ 6 ms: %.2f ms; the previous release %.2f ms (medians).\n", med("new"), med("prev") }' "$tmp/bench.txt"
echo

build "$root" "$tmp/img/arena-deploy" # the image holds this one binary; the reference adapter is a link to it
echo "Image payload (one static binary, FROM scratch): $(du -b "$tmp/img/arena-deploy" | cut -f1) bytes."
echo
echo "Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)."
