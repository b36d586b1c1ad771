#!/usr/bin/env bash
# pg.sh: a throwaway PostgreSQL cluster for the tests.
#
# Sourced (as scripts/test.sh does), it defines pg_start and pg_stop:
#   pg_start  initialises a cluster in a new temporary directory, starts it on
#             a free loopback port and exports GATEHOUSE_TEST_POSTGRES_DSN
#             (superuser "postgres", no password, database "postgres") and
#             GATEHOUSE_PG_DIR.
#   pg_stop   stops that cluster and removes its directory.
#
# Run directly, for working by hand:
#   eval "$(scripts/pg.sh start)"   # prints the export lines
#   go test ./internal/store/postgres/...
#   scripts/pg.sh stop              # uses GATEHOUSE_PG_DIR
#
# initdb and postgres refuse to run as root, so as root the cluster runs as
# the "postgres" system user (created when missing). When PostgreSQL is not
# installed, it is installed from the distribution's packages.

pg__log() { echo "pg.sh: $*" >&2; }

# pg__bindir prints the directory holding initdb, pg_ctl and postgres.
pg__bindir() {
	local initdb dir
	if initdb=$(command -v initdb 2>/dev/null); then
		dirname "$(readlink -f "$initdb")"
		return 0
	fi
	dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
	if [ -n "$dir" ] && [ -x "$dir/initdb" ]; then
		echo "$dir"
		return 0
	fi
	return 1
}

# pg__install installs PostgreSQL from the distribution when it is missing.
pg__install() {
	if pg__bindir >/dev/null; then
		return 0
	fi
	if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
		pg__log "PostgreSQL is not installed (no initdb on PATH nor in /usr/lib/postgresql/*/bin)"
		return 1
	fi
	pg__log "installing PostgreSQL"
	DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 &&
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2 || {
		pg__log "apt-get install postgresql failed"
		return 1
	}
	pg__bindir >/dev/null
}

# pg__as_owner runs a command as the cluster's owner, from inside the
# cluster directory (the owner may not be able to enter the current one).
pg__as_owner() {
	if [ "$(id -u)" -eq 0 ]; then
		(cd "$GATEHOUSE_PG_DIR" && runuser -u postgres -- "$@")
	else
		(cd "$GATEHOUSE_PG_DIR" && "$@")
	fi
}

# pg__free_port prints a loopback TCP port that nothing listens on now.
pg__free_port() {
	if command -v python3 >/dev/null 2>&1; then
		python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()' && return 0
	fi
	local port i
	for i in $(seq 1 50); do
		port=$((20000 + RANDOM % 40000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			echo "$port"
			return 0
		fi
	done
	return 1
}

# GATEHOUSE_PG_OPTIONS replaces the durability settings (default: -c fsync=on);
# the test suite turns fsync off, since a throwaway cluster needs no crash
# safety and DDL-heavy tests run several times faster without it.
pg_start() {
	pg__install || return 1
	local bin
	bin=$(pg__bindir) || return 1

	if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
		useradd --system --user-group --home-dir /var/lib/postgresql --shell /bin/bash postgres || {
			pg__log "cannot create the postgres user"
			return 1
		}
	fi

	# As root the directory must be reachable by the postgres user, which a
	# private TMPDIR (under /root, say) may not be.
	local base=${TMPDIR:-/tmp}
	if [ "$(id -u)" -eq 0 ]; then
		base=/tmp
	fi
	GATEHOUSE_PG_DIR=$(mktemp -d "$base/gatehouse-pg.XXXXXX") || return 1
	export GATEHOUSE_PG_DIR
	chmod 0755 "$GATEHOUSE_PG_DIR"
	if [ "$(id -u)" -eq 0 ]; then
		chown postgres: "$GATEHOUSE_PG_DIR" || return 1
	fi

	if ! pg__as_owner "$bin/initdb" -D "$GATEHOUSE_PG_DIR/data" -A trust -U postgres \
		-E UTF8 --no-locale >"$GATEHOUSE_PG_DIR/initdb.log" 2>&1; then
		pg__log "initdb failed:"
		cat "$GATEHOUSE_PG_DIR/initdb.log" >&2
		return 1
	fi

	local port attempt
	for attempt in 1 2 3 4 5; do
		port=$(pg__free_port) || {
			pg__log "no free port found"
			return 1
		}
		if pg__as_owner "$bin/pg_ctl" -D "$GATEHOUSE_PG_DIR/data" -l "$GATEHOUSE_PG_DIR/server.log" -w -t 60 \
			-o "-p $port -k $GATEHOUSE_PG_DIR -c listen_addresses=127.0.0.1 ${GATEHOUSE_PG_OPTIONS:--c fsync=on} -c max_connections=300" \
			start >/dev/null; then
			export GATEHOUSE_PG_PORT=$port
			export GATEHOUSE_TEST_POSTGRES_DSN="postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
			pg__log "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') listening on 127.0.0.1:$port (data in $GATEHOUSE_PG_DIR)"
			return 0
		fi
		pg__log "start on port $port failed (attempt $attempt):"
		tail -n 20 "$GATEHOUSE_PG_DIR/server.log" >&2 2>/dev/null
	done
	pg__log "PostgreSQL could not be started"
	return 1
}

pg_stop() {
	local dir=${GATEHOUSE_PG_DIR:-}
	if [ -z "$dir" ] || [ ! -d "$dir" ]; then
		return 0
	fi
	local bin
	if bin=$(pg__bindir) && [ -f "$dir/data/postmaster.pid" ]; then
		pg__as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null 2>&1 ||
			pg__log "pg_ctl stop failed; see $dir/server.log"
	fi
	rm -rf "$dir"
	unset GATEHOUSE_PG_DIR GATEHOUSE_PG_PORT GATEHOUSE_TEST_POSTGRES_DSN
}

# Run directly: start prints export lines, stop stops GATEHOUSE_PG_DIR.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -euo pipefail
	case "${1:-}" in
	start)
		if ! pg_start; then
			pg_stop
			exit 1
		fi
		printf 'export GATEHOUSE_PG_DIR=%q\n' "$GATEHOUSE_PG_DIR"
		printf 'export GATEHOUSE_PG_PORT=%q\n' "$GATEHOUSE_PG_PORT"
		printf 'export GATEHOUSE_TEST_POSTGRES_DSN=%q\n' "$GATEHOUSE_TEST_POSTGRES_DSN"
		;;
	stop)
		if [ -n "${2:-}" ]; then
			GATEHOUSE_PG_DIR=$2
		fi
		pg_stop
		;;
	*)
		echo "usage: $0 start | stop [DIR]" >&2
		exit 2
		;;
	esac
fi
