# shellcheck shell=bash
# SPDX-License-Identifier: Apache-2.0
# Sourced by run.sh and regress.sh: configures and builds the fuzz targets with clang,
# ASan and UBSan (assertions on), and prepares a scratch directory outside the
# repository. Sets root, build, targets, work.
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="${FUZZ_BUILD_DIR:-$root/build/fuzz}"
targets=(fuzz_json_body fuzz_handler)

# -O2 -g without -DNDEBUG: the layers' assert()s are invariants worth fuzzing. Warnings
# are errors, as in CI's other builds. FUZZ_CMAKE_ARGS adds options (e.g.
# -DWARNINGS_AS_ERRORS=OFF).
# shellcheck disable=SC2086
cmake -S "$root" -B "$build" -DCMAKE_C_COMPILER=clang -DENABLE_FUZZING=ON \
    -DSANITIZE='address;undefined' -DBUILD_TESTING=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_C_FLAGS_RELWITHDEBINFO='-O2 -g' -DWARNINGS_AS_ERRORS=ON ${FUZZ_CMAKE_ARGS:-} >/dev/null
cmake --build "$build" --target "${targets[@]}" -j"$(nproc)" >"$build/fuzz-build.log" 2>&1 || {
    cat "$build/fuzz-build.log" >&2
    echo "fuzz: the build failed" >&2
    exit 2
}

# Scratch space (databases, corpus copies, artifacts): tmpfs when there is one, since
# the service syncs every commit. Removed at exit unless FUZZ_KEEP is set.
base="${FUZZ_WORK_BASE:-/dev/shm}"
[ -d "$base" ] && [ -w "$base" ] || base="${TMPDIR:-/tmp}"
work="$(mktemp -d "$base/carbontree-fuzz.XXXXXX")"
if [ -z "${FUZZ_KEEP:-}" ]; then
    trap 'rm -rf "$work"' EXIT
fi
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
