#!/usr/bin/env bash
# Checks each image's Dockerfile where no container engine runs (registered with ctest as images_dockerfiles):
#   scripts/check-images.sh DOCKERFILE=BINARY ...
# - the build stage installs setup.sh's packages by running `setup.sh --packages` (one list, so no drift) and
#   builds only the binary's own target;
# - the runtime stage is debian:12-slim, and its `apt-get install` packages cover the Debian package (dpkg -S) of
#   every shared library `ldd BINARY` resolves, counting what those packages depend on and what debian:12-slim
#   already holds; it installs nothing the binary does not load (ca-certificates aside);
# - tpu-extender and inferd run as a numeric non-root USER; the device plugin is the only one left as root;
# - .dockerignore keeps build trees (gigabytes, and a CMakeCache.txt CMake refuses elsewhere) and .git out.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

failures=0
fail() {
  echo "FAIL $*"
  failures=$((failures + 1))
}

# Stage N (0: the first FROM) of a Dockerfile, continuation lines joined.
stage() { sed -e ':a' -e '/\\$/{N;s/\\\n/ /;ba' -e '}' "$1" | awk -v n="$2" '/^FROM /{i++} i==n+1'; }

apt_installs() { grep -o 'apt-get install[^&;]*' | sed 's/apt-get install//' | tr ' ' '\n' | grep -v -e '^-' -e '^$' || true; }

# What each installed package depends on, as dpkg records it (both sides of an `a | b`), read once.
declare -A depends=()
while read -r package rest; do
  depends[$package]=$rest
done < <(dpkg-query -W -f='${Package}\t${Depends}, ${Pre-Depends}\n' |
  awk -F'\t' '{gsub(/\([^)]*\)|:any/, "", $2); gsub(/[,|]/, " ", $2); print $1, $2}')

# The given packages and, recursively, what they depend on.
closure() {
  local -A seen=()
  local queue=("$@") p
  while [ ${#queue[@]} -gt 0 ]; do
    p=${queue[-1]}
    unset 'queue[-1]'
    [ -n "${seen[$p]:-}" ] && continue
    seen[$p]=1
    queue+=(${depends[$p]:-})
  done
  printf '%s\n' "${!seen[@]}"
}

# The Debian packages owning library paths, as "PATH PACKAGE" lines; each path is asked as ldd wrote it, resolved,
# and on both sides of the merged /usr (dpkg records one of them). One dpkg -S for all: each call reads its database.
owners() {
  local path candidates=()
  for path in "$@"; do candidates+=("$path" "$(readlink -f "$path")" "${path#/usr}" "/usr${path#/usr}"); done
  dpkg -S "${candidates[@]}" 2>/dev/null | grep -v '^diversion' | awk '{sub(/:.*/, "", $1); print $2, $1}' || true
}

for pattern in 'build*/' .git; do
  grep -qxF "$pattern" .dockerignore 2>/dev/null || fail ".dockerignore does not keep $pattern out of the build context"
done

# What debian:12-slim holds already: apt and dpkg with everything they need.
mapfile -t slim < <(closure apt dpkg bash coreutils)

for pair in "$@"; do
  dockerfile=${pair%%=*}
  binary=${pair#*=}
  name=$(basename "$binary")
  [ -f "$dockerfile" ] || { fail "$dockerfile: missing"; continue; }
  [ -x "$binary" ] || { fail "$binary: not built"; continue; }
  build=$(stage "$dockerfile" 0)
  runtime=$(stage "$dockerfile" 1)

  grep -q '^FROM debian:12 AS build' <<<"$build" || fail "$dockerfile: the build stage is not 'FROM debian:12 AS build'"
  grep -q 'scripts/setup.sh --packages' <<<"$build" || fail "$dockerfile: the build stage does not run setup.sh --packages"
  [ -z "$(apt_installs <<<"$build")" ] || fail "$dockerfile: the build stage installs packages of its own"
  grep -q -- "--target $name\b" <<<"$build" || fail "$dockerfile: the build stage does not build --target $name"
  grep -q '^FROM debian:12-slim$' <<<"$runtime" || fail "$dockerfile: the runtime stage is not 'FROM debian:12-slim'"
  grep -q "^COPY --from=build .*/$name /usr/local/bin/$name$" <<<"$runtime" ||
    fail "$dockerfile: the runtime stage does not copy $name from the build stage"

  user=$(awk '/^USER / {user = $2} END {print user}' <<<"$runtime")
  if [ "$name" = tpu-device-plugin ]; then
    [ -z "$user" ] || [ "${user%%:*}" = 0 ] || fail "$dockerfile: the device plugin needs root for the kubelet's directory"
  elif ! [[ "${user%%:*}" =~ ^[1-9][0-9]*$ ]]; then
    fail "$dockerfile: USER '$user' is not a numeric non-root user"
  fi

  mapfile -t listed < <(apt_installs <<<"$runtime" | sort -u)
  for p in "${listed[@]}"; do
    dpkg-query -W "$p" >/dev/null 2>&1 || fail "$dockerfile: $p is not installed here, so its libraries cannot be checked"
  done
  declare -A covered=()
  while read -r p; do covered[$p]=1; done < <(closure "${listed[@]}" "${slim[@]}")
  ldd "$binary" | grep 'not found' | sed "s|^|FAIL $binary: |" && failures=$((failures + 1))
  mapfile -t libraries < <(ldd "$binary" | awk '$2 == "=>" && $3 ~ /^\// {print $3}')
  declare -A owner=() needed=()
  while read -r path package; do owner[$path]=$package; done < <(owners "${libraries[@]}")
  for path in "${libraries[@]}"; do
    package=""
    for candidate in "$path" "$(readlink -f "$path")" "${path#/usr}" "/usr${path#/usr}"; do
      package=${package:-${owner[$candidate]:-}}
    done
    if [ -z "$package" ]; then
      fail "$dockerfile: no Debian package owns $path"
      continue
    fi
    needed[$package]=1
    [ -n "${covered[$package]:-}" ] ||
      fail "$dockerfile: $path comes from $package, which the runtime stage does not install"
  done
  for p in "${listed[@]}"; do
    [ "$p" = ca-certificates ] || [ -n "${needed[$p]:-}" ] || fail "$dockerfile: installs $p, whose libraries $name does not load"
  done
  unset covered owner needed
  echo "checked $dockerfile against $binary (${#listed[@]} runtime packages)"
done
[ "$failures" -eq 0 ] && echo "images: all checks passed"
exit $((failures > 0))
