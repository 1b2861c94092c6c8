#!/usr/bin/env bash
# Builds the real kube-apiserver and etcd that the live-check tests run, into a cache outside the work tree,
# and reuses them when both are present. Prints the folder holding them on its last line.
# The first build takes long on a 2-core machine (see README, "Tests against a real kube-apiserver").
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
version="$(awk '$1 == "k8s.io/kubernetes" {print $2; exit}' "$here/go.mod")"
out="${VIZDOCTOR_APISERVER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vizdoctor}/apiserver-$version"
if [ -x "$out/kube-apiserver" ] && [ -x "$out/etcd" ]; then echo "$out"; exit 0; fi
command -v go >/dev/null 2>&1 || { echo "go is not installed: cannot build kube-apiserver $version" >&2; exit 3; }
mkdir -p "$out"
# One build at a time: a second caller waits for the first and then finds the binaries.
exec 9>"$out/.lock"
flock 9
if [ -x "$out/kube-apiserver" ] && [ -x "$out/etcd" ]; then echo "$out"; exit 0; fi
cd "$here"
start=$(date +%s)
# The release the binaries report (/version), as the upstream build stamps it.
minor="${version#v1.}"; minor="${minor%%.*}"
stamp=""
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  stamp="$stamp -X $pkg.gitVersion=$version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
done
# -p: parallel compile jobs; 1 leaves a core to the rest of a shared 2-core machine.
for target in "etcd=./cmd/etcd" "kube-apiserver=k8s.io/kubernetes/cmd/kube-apiserver"; do
  name="${target%%=*}"; pkg="${target#*=}"
  [ -x "$out/$name" ] && continue
  echo "building $name ($pkg, kubernetes $version) into $out ..." >&2
  GOFLAGS=-mod=mod CGO_ENABLED=0 go build -p "${VIZDOCTOR_GO_BUILD_JOBS:-1}" -trimpath -ldflags="-s -w $stamp" \
    -o "$out/$name.tmp" "$pkg"
  mv "$out/$name.tmp" "$out/$name"
done
echo "built in $(( $(date +%s) - start )) s" | tee "$out/build-time.txt" >&2
echo "$out"
