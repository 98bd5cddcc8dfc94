#!/usr/bin/env bash
# Builds llama.cpp's llama-server for the tests that run a real model server, once, and
# caches it outside the checkout (CI clones afresh every run):
#   ${XDG_CACHE_HOME:-~/.cache}/swarmd-test/llama.cpp-<release>/bin/llama-server
# The source is the git bundle that the npm package node-llama-cpp carries (fetched with
# `npm pack`, never installed: its prebuilt binaries are 700 MB). Prints the cache
# directory on stdout; progress goes to stderr. A cold build takes 10-19 CPU-minutes.
set -euo pipefail

# The one place the pinned llama.cpp is named: node-llama-cpp's version.
NODE_LLAMA_CPP_VERSION=3.22.1

cache_root="${XDG_CACHE_HOME:-$HOME/.cache}/swarmd-test"
# Which release this node-llama-cpp version carries, remembered so a warm run needs no download.
stamp="$cache_root/node-llama-cpp-$NODE_LLAMA_CPP_VERSION.release"
say() { printf 'build-llama-server: %s\n' "$*" >&2; }

cached_dir() {
  [ -f "$stamp" ] || return 1
  local dir
  dir="$cache_root/llama.cpp-$(cat "$stamp")"
  [ -x "$dir/bin/llama-server" ] || return 1
  printf '%s\n' "$dir"
}

if cached_dir; then exit 0; fi

missing=()
for tool in cmake g++ make git npm tar flock; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ "${#missing[@]}" -gt 0 ]; then
  say "cannot build llama-server: missing ${missing[*]}." \
    "Install them (Debian/Ubuntu: apt-get install cmake g++ make git), then run the tests again."
  exit 2
fi

mkdir -p "$cache_root"
# One build at a time: a second test process waits here, then finds the cache filled.
exec 9>"$cache_root/build.lock"
if ! flock -n 9; then
  say "another process is building llama-server; waiting for it"
  flock 9
fi
if cached_dir; then exit 0; fi

started=$SECONDS
# Built beside the cache (same filesystem) and renamed into place at the end, so a killed
# build never leaves a half-filled cache directory.
work=$(mktemp -d "$cache_root/.build-XXXXXX")
trap 'rm -rf "$work"' EXIT

say "fetching node-llama-cpp@$NODE_LLAMA_CPP_VERSION (npm pack, source only)"
(cd "$work" && npm pack --silent "node-llama-cpp@$NODE_LLAMA_CPP_VERSION" >/dev/null 9>&-)
tar -xzf "$work/node-llama-cpp-$NODE_LLAMA_CPP_VERSION.tgz" -C "$work" \
  package/llama/llama.cpp.info.json package/llama/gitRelease.bundle
release=$(node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).tag)' \
  "$work/package/llama/llama.cpp.info.json")
if ! [[ "$release" =~ ^[A-Za-z0-9._-]+$ ]]; then
  say "node-llama-cpp@$NODE_LLAMA_CPP_VERSION names an unexpected llama.cpp release: '$release'"
  exit 1
fi
dest="$cache_root/llama.cpp-$release"
if [ -x "$dest/bin/llama-server" ]; then
  printf '%s\n' "$release" >"$stamp"
  printf '%s\n' "$dest"
  exit 0
fi

say "building llama.cpp $release into $dest (nice 19, -j2; 10-19 CPU-minutes)"
git -c advice.detachedHead=false clone --quiet "$work/package/llama/gitRelease.bundle" "$work/llama.cpp" 9>&-
# Static libraries: one self-contained binary that runs from wherever the cache lives.
nice -n 19 cmake -S "$work/llama.cpp" -B "$work/build" -DCMAKE_BUILD_TYPE=Release \
  -DBUILD_SHARED_LIBS=OFF -DGGML_NATIVE=OFF -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF -DGGML_RPC=ON \
  -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF >"$work/cmake.log" 2>&1 9>&- || {
  tail -n 40 "$work/cmake.log" >&2
  say "cmake configure failed (log above)"
  exit 1
}
nice -n 19 cmake --build "$work/build" --target llama-server -j2 >"$work/build.log" 2>&1 9>&- || {
  tail -n 40 "$work/build.log" >&2
  say "cmake build failed (log above)"
  exit 1
}

mkdir -p "$work/out/bin"
cp "$work/build/bin/llama-server" "$work/out/bin/"
"$work/out/bin/llama-server" --version >"$work/out/VERSION" 2>&1 || {
  cat "$work/out/VERSION" >&2
  say "the built llama-server does not run"
  exit 1
}
rm -rf "$dest"
mv -T "$work/out" "$dest"
printf '%s\n' "$release" >"$stamp.tmp"
mv "$stamp.tmp" "$stamp"
say "built llama-server $release in $((SECONDS - started)) s"
printf '%s\n' "$dest"
