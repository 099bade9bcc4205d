#!/usr/bin/env bash
# Builds a real Kubernetes v1.20.2 control plane for the tests: kube-apiserver, kube-scheduler and kubectl from
# Debian bookworm's `kubernetes` source package, and etcd from Debian's etcd-server .deb, into a cache outside
# the clone. Only Debian's mirror (through apt) is used. Runs as root; idempotent: once the stamp exists it
# does nothing. Progress goes to stderr; the last (only) line on stdout is the cache directory.
#   scripts/build-kubernetes.sh                       # /var/cache/tpustack/kubernetes-1.20.2
#   TPUSTACK_K8S_CACHE=/somewhere scripts/build-kubernetes.sh
#   TPUSTACK_K8S_KEEP_BUILD=1 ...                     # keep the unpacked source and Go build cache
set -euo pipefail

cache=${TPUSTACK_K8S_CACHE:-/var/cache/tpustack/kubernetes-1.20.2}
stamp=$cache/.built-v1.20.2  # written last: its presence means every binary below is complete
bins=(kube-apiserver kube-scheduler kubectl etcd)
version=v1.20.2
commit=faecb196815e248d3ecfb03c680a4507229c2a56  # v1.20.2's commit, as the tarball's version/base.go says

done_already() { [ -f "$stamp" ] && for b in "${bins[@]}"; do [ -x "$cache/bin/$b" ] || return 1; done; }
if done_already; then echo "$cache"; exit 0; fi

log() { echo "build-kubernetes: $*" >&2; }
[ "$(id -u)" -eq 0 ] || { log "needs root (apt-get install, $cache)"; exit 1; }
mkdir -p "$cache"
# Two test runs may start this at once: the second waits for the first, then finds the stamp.
exec 9>"$cache/.lock"
flock 9
if done_already; then echo "$cache"; exit 0; fi
start=$SECONDS

# Only what the build needs: Go 1.19, dpkg-source, reflect2 v1.0.2 (see below), openssl for the tests' certs.
packages=(golang-go dpkg-dev golang-github-modern-go-reflect2-dev openssl)
bash "$(dirname "${BASH_SOURCE[0]}")/install-missing.sh" build-kubernetes "${packages[@]}"

# A private apt configuration (own sources list with deb-src, own lists and cache) so that the system's apt
# sources are never touched. It uses the mirror the system already uses for its release.
codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
mirror=$(
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue  # deb822 stanzas: the first URI of a stanza whose Suites has exactly $codename
    awk -v c="$codename" 'BEGIN { RS = "" } {
      uri = ""; ok = 0; n = split($0, l, "\n")
      for (i = 1; i <= n; i++) {
        if (l[i] ~ /^URIs:/) { split(l[i], a, /[ \t]+/); uri = a[2] }
        if (l[i] ~ /^Suites:/) { m = split(l[i], s, /[ \t]+/); for (j = 2; j <= m; j++) if (s[j] == c) ok = 1 }
        if (l[i] ~ /^Enabled:[ \t]*no/) { ok = 0; break }
      }
      if (ok && uri != "") print uri }' "$f"
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue  # one-line format: deb [options] URI suite components
    awk -v c="$codename" '$1 == "deb" { i = 2; if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
      if ($(i + 1) == c) print $i }' "$f"
  done
)
mirror=${mirror%%$'\n'*}  # the first one
[ -n "$mirror" ] || { log "no apt source for $codename in /etc/apt/sources.list{,.d/*.sources}"; exit 1; }
log "using $mirror $codename"
apt_dir=$cache/apt
mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$cache/downloads"
key=/usr/share/keyrings/debian-archive-keyring.gpg
printf 'deb [signed-by=%s] %s %s main\ndeb-src [signed-by=%s] %s %s main\n' \
  "$key" "$mirror" "$codename" "$key" "$mirror" "$codename" >"$apt_dir/sources.list"
apt_opts=(-q -o Dir::Etc::SourceList="$apt_dir/sources.list" -o Dir::Etc::SourceParts=/dev/null
  -o Dir::State::Lists="$apt_dir/lists" -o Dir::Cache="$apt_dir/cache"
  -o APT::Sandbox::User=root)  # the _apt user cannot write into a root-owned cache directory
apt-get "${apt_opts[@]}" update >&2

# kubernetes 1.20.5+really1.20.2 (Debian only packages kubectl from it, but the tarball is the whole tree
# with vendor/). apt checked the files against the signed Release, so dpkg-source need not check the .dsc.
cd "$cache/downloads"
apt-get "${apt_opts[@]}" source --download-only kubernetes >&2
apt-get "${apt_opts[@]}" download etcd-server >&2
dsc=$(ls -t kubernetes_*.dsc | head -n 1)
case $dsc in *really1.20.2*) ;; *) log "$dsc is not Kubernetes 1.20.2, which the fixes below are for"; exit 1 ;; esac
gopath=$cache/gopath
src=$gopath/src/k8s.io/kubernetes
rm -rf "$src"  # never build on a half-unpacked or half-patched tree from an interrupted run
mkdir -p "$(dirname "$src")"
dpkg-source --no-check -x "$dsc" "$src" >&2

# GOPATH mode with the tree's vendor/, Debian's Go 1.19, everything under the cache; no network (GOPROXY=off).
export PATH=/usr/lib/go/bin:$PATH GOPATH=$gopath GO111MODULE=off GOCACHE=$cache/go-build GOPROXY=off \
  GOFLAGS= CGO_ENABLED=0
cd "$src"

# Fix 1: the vendored reflect2 v1.0.1 crashes every Go >= 1.18 program at start (unsafe map iteration);
# v1.0.2 from Debian is API-compatible.
rm -rf vendor/github.com/modern-go/reflect2
cp -r /usr/share/gocode/src/github.com/modern-go/reflect2 vendor/github.com/modern-go/reflect2

# Fix 2: pkg/generated/openapi/zz_generated.openapi.go is not in the tarball (the release Makefile generates
# it). Same inputs as Makefile.generated_files' KUBE target: every directory (staging named as vendor/) with a
# file carrying a `// +k8s:` tag and `+k8s:openapi-gen=`, minus code-generator and sample-apiserver. (The
# violations report then equals api/api-rules/violation_exceptions.list, as the Makefile requires.)
# grep exits 1 for a batch with no match: not an error here.
log "generating pkg/generated/openapi"
nice -n 10 go build -o "$cache/tools/openapi-gen" ./vendor/k8s.io/kube-openapi/cmd/openapi-gen
inputs=$(find -H . -not \( \( -path './_*' -o -path './.*' -o -path ./vendor \) -prune \) \
    -type f -name '*.go' -print0 |
  { xargs -0 grep -l '^// *+k8s:' || true; } | { xargs grep -l '+k8s:openapi-gen=' || true; } |
  sed 's|^\./staging/src|vendor|; s|^\./||' | xargs -n1 dirname |
  grep -v -e '^vendor/k8s.io/code-generator/' -e '^vendor/k8s.io/sample-apiserver/' |
  LC_ALL=C sort -u | sed 's|^|k8s.io/kubernetes/|' | paste -sd, -)
report=$cache/tools/openapi-violations.report
nice -n 10 "$cache/tools/openapi-gen" --logtostderr -i "$inputs" -p k8s.io/kubernetes/pkg/generated/openapi \
  -O zz_generated.openapi -h vendor/k8s.io/code-generator/hack/boilerplate.go.txt -o "$gopath/src" -r "$report" >&2
cmp -s "$report" api/api-rules/violation_exceptions.list || log "warning: openapi inputs differ from the release's"
[ -s pkg/generated/openapi/zz_generated.openapi.go ]

# Version variables as hack/lib/version.sh sets them (vendored packages live under k8s.io/kubernetes/vendor in
# GOPATH mode): kube-scheduler and kubectl compare their version with the apiserver's.
ldflags="-s -w"
for pkg in k8s.io/kubernetes/vendor/k8s.io/{client-go/pkg,component-base}/version; do
  ldflags+=" -X $pkg.gitVersion=$version -X $pkg.gitMajor=1 -X $pkg.gitMinor=20 -X $pkg.gitCommit=$commit"
  ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=2021-01-13T13:20:00Z"
done
mkdir -p "$cache/bin"
for b in kube-apiserver kube-scheduler kubectl; do
  log "go build $b ($((SECONDS - start))s so far)"
  nice -n 10 go build -o "$cache/bin/$b.tmp" -ldflags "$ldflags" "k8s.io/kubernetes/cmd/$b" >&2
  mv "$cache/bin/$b.tmp" "$cache/bin/$b"
done

# etcd from the .deb, unpacked rather than installed so that no system service starts.
rm -rf "$cache/etcd-server"
dpkg-deb -x "$(ls -t "$cache"/downloads/etcd-server_*.deb | head -n 1)" "$cache/etcd-server"
cp "$cache/etcd-server/usr/bin/etcd" "$cache/bin/etcd"

for b in kube-apiserver kube-scheduler; do "$cache/bin/$b" --version >&2; done
"$cache/bin/kubectl" version --client --short >&2
"$cache/bin/etcd" --version >&2
if [ "${TPUSTACK_K8S_KEEP_BUILD:-0}" != 1 ]; then  # the binaries are all the tests need (GBs otherwise)
  chmod -R u+w "$gopath" "$cache/go-build" 2>/dev/null || true
  rm -rf "$gopath" "$cache/go-build" "$cache/etcd-server" "$apt_dir/lists" "$cache/tools/openapi-gen"
fi
date -u +%FT%TZ >"$stamp"
log "done in $((SECONDS - start))s"
echo "$cache"
