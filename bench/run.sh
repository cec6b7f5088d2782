#!/usr/bin/env bash
# Prints the performance table recorded in BENCHMARKS.md:
#   bash bench/run.sh
set -euo pipefail
cd "$(dirname "$0")/.."
benches='^(BenchmarkRenderPlan10k|BenchmarkCompare10MB|BenchmarkRenderPlanDiff3000|BenchmarkDecodePlan10k|BenchmarkPlanRoundTrip10MB|BenchmarkPlanInProcess10MB|BenchmarkServeLocalPlan10MB|BenchmarkServePlan10MB|BenchmarkPlanRun50|BenchmarkAdapterOnly50|BenchmarkApplyRun50|BenchmarkAdapterApplyOnly50|BenchmarkStartUp|BenchmarkFreshPlan9MB|BenchmarkEncodePlanRequest9MB|BenchmarkParse9MB|BenchmarkContentDigest9MB|BenchmarkTreeDigest9MB|BenchmarkPlanRun9MB|BenchmarkPlanRunProcess9MB)$'
raw=$(go test -run '^$' -bench "$benches" -benchtime "${BENCHTIME:-20x}" -benchmem ./... 2>&1) || { echo "$raw"; exit 1; }

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(free -g | awk '/Mem/{print $2}') GiB, $(go version | cut -d' ' -f3-4)"
echo
printf '| %-28s | %12s | %s |\n' benchmark ms/op extra
printf '|%s|%s|%s|\n' ------------------------------ -------------- ------------------------------
echo "$raw" | awk '/^Benchmark/ {
  name=$1; sub(/-[0-9]+$/, "", name); ms=$3/1e6; extra="";
  for (i=5; i<NF; i+=2) if ($(i+1) !~ /^(B\/op|allocs\/op|MB\/s)$/) extra=extra $i " " $(i+1) " ";
  for (i=5; i<NF; i+=2) if ($(i+1) == "B/op") extra=extra sprintf("%.1f MB/op ", $i/1e6);
  printf "| %-28s | %12.2f | %s|\n", name, ms, extra }'

bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
CGO_ENABLED=0 go build -tags nodemo,nethttpomithttp2 -trimpath -ldflags="-s -w" -o "$bin/arena-deploy" ./cmd/action
echo
# The image holds this one binary; the reference adapter is a link to it.
echo "image payload (one static binary, FROM scratch): $(du -b "$bin/arena-deploy" | cut -f1) bytes"
