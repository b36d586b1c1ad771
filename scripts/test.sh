#!/usr/bin/env bash
# test.sh: the one test command of Gatehouse, the same on a developer's
# machine and in CI. It starts a throwaway PostgreSQL cluster (see pg.sh),
# runs go vet, the whole test suite, and the race detector on the packages
# whose tests share state between goroutines, then stops the cluster.
# It exits non-zero when any step failed; every step runs regardless, so
# that one run shows every failure.
set -uo pipefail

# Packages whose tests exercise shared state concurrently: also run with -race.
RACE_PACKAGES=(
	./internal/store/...
	./internal/loadtest/...
	./internal/core/...
	./internal/federation/...
	./internal/sdktest/...
	./internal/userfile/...
	./internal/events/...
)

# Timeout of each go test run.
TEST_TIMEOUT=20m

cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1

# shellcheck source=scripts/pg.sh
source scripts/pg.sh
trap pg_stop EXIT
trap 'exit 130' INT TERM

log() { echo "test.sh: $*" >&2; }

# The race detector needs cgo and a C compiler, which a bare machine may lack.
ensure_cc() {
	if command -v gcc >/dev/null 2>&1; then
		return 0
	fi
	if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
		log "no C compiler: the race detector cannot run"
		return 1
	fi
	log "installing gcc for the race detector"
	DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 &&
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gcc libc6-dev >&2
}

# The browser tests (internal/web/browsertest) drive a real headless
# Chromium found on PATH. Install Debian's package when it is missing; in CI
# those tests fail without it, elsewhere they skip.
ensure_chromium() {
	local name
	for name in chromium chromium-browser google-chrome; do
		if command -v "$name" >/dev/null 2>&1; then
			return 0
		fi
	done
	if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
		log "no Chromium on PATH and no way to install it: the browser tests cannot run"
		return 1
	fi
	log "installing chromium for the browser tests"
	DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 &&
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >&2
}
ensure_chromium || true

# A throwaway cluster needs no crash safety (benchmarks of PostgreSQL
# durability use `scripts/pg.sh start`, which keeps fsync on).
export GATEHOUSE_PG_OPTIONS="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
if ! pg_start; then
	log "PostgreSQL could not be started"
	exit 1
fi
# Every run, in CI or not, tests against this cluster.
export GATEHOUSE_TEST_POSTGRES_DSN

failed=()
step() {
	log "running: $*"
	if ! "$@"; then
		failed+=("$*")
	fi
}

step go vet ./...
step go test -count=1 -timeout "$TEST_TIMEOUT" ./...
# The Go SDK is a module of its own (so that importing it pulls none of the
# server's dependencies): ./... above does not reach it.
step bash -c 'cd sdk && go vet ./... && go test -count=1 ./...'
if ensure_cc; then
	step env CGO_ENABLED=1 go test -count=1 -race -timeout "$TEST_TIMEOUT" "${RACE_PACKAGES[@]}"
	step env CGO_ENABLED=1 bash -c 'cd sdk && go test -count=1 -race ./...'
else
	failed+=("go test -race (no C compiler)")
fi

if [ "${#failed[@]}" -ne 0 ]; then
	for f in "${failed[@]}"; do
		log "FAILED: $f"
	done
	exit 1
fi
log "all steps passed"
