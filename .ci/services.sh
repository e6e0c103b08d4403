# What a CI run needs beside the code, each run its own: a database of its own on the machine's PostgreSQL and a
# Redis of its own on a free port. Everything it makes is removed when the run ends, whether it passed, failed or
# was interrupted, so two runs can share a host (two clones, two branches at once). Sourced by .ci/run; proved by
# tests/project/test_ci.py. The PostgreSQL server is the machine's: it is started when it is down (as the machine
# would start it), never stopped, since another run may be using it.

CI_PGHOST=${CI_PGHOST:-127.0.0.1}
CI_PGPORT=${CI_PGPORT:-5432}
CI_CLEANUPS=()

ci_clean_up() {
    local i
    for ((i = ${#CI_CLEANUPS[@]} - 1; i >= 0; i--)); do
        eval "${CI_CLEANUPS[i]}" || true
    done
    CI_CLEANUPS=()
}
# The EXIT trap runs on success, on failure (set -e) and, through these, when the run is interrupted or killed.
trap ci_clean_up EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

ci_psql() {
    psql -h "$CI_PGHOST" -p "$CI_PGPORT" -U postgres -v ON_ERROR_STOP=1 -qtA "$@"
}

ci_postgres() {
    if ! pg_isready -h "$CI_PGHOST" -p "$CI_PGPORT" -q; then
        pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start || true
    fi
    local _
    for _ in $(seq 1 "${CI_PG_WAIT:-30}"); do
        pg_isready -h "$CI_PGHOST" -p "$CI_PGPORT" -q && return 0
        sleep 1
    done
    echo "PostgreSQL is not reachable on $CI_PGHOST:$CI_PGPORT: CI needs it and will not fall back to SQLite." >&2
    return 1
}

ci_drop_database() {
    # pytest-django's test_<name> too: a run killed mid-suite leaves it behind.
    local name
    for name in "test_$1" "$1"; do
        ci_psql -c "DROP DATABASE IF EXISTS \"$name\" WITH (FORCE)" >/dev/null
    done
}

# A database named for this run; DATABASE_URL points at it (the suite then uses test_<name>).
ci_database() {
    local name
    name="appt_ci_$(date +%Y%m%d%H%M%S)_$$_${RANDOM}"
    CI_CLEANUPS+=("ci_drop_database $name")
    ci_psql -c "CREATE DATABASE \"$name\""
    export DATABASE_URL="postgres://postgres@$CI_PGHOST:$CI_PGPORT/$name"
}

ci_free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

ci_stop_redis() {
    local dir=$1 pid _
    if [ -s "$dir/redis.pid" ]; then
        pid=$(cat "$dir/redis.pid")
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 1 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$pid" 2>/dev/null || true
    fi
    rm -rf "$dir"
}

# A Redis of this run's own on a free port, keeping nothing on disk; TEST_REDIS_URL points at it (the tests that
# need a Redis read it, and may empty it).
ci_redis() {
    if ! command -v redis-server >/dev/null 2>&1; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server
    fi
    local dir port _ attempt
    dir=$(cd "$(mktemp -d -t ci-redis.XXXXXX)" && pwd -P)
    CI_CLEANUPS+=("ci_stop_redis $dir")
    for attempt in 1 2 3 4 5; do
        port=$(ci_free_port)
        # Another process may take the port between the choice and the start: then this one exits, writes no
        # pid file, and another port is tried. The answer must come from this run's server (its own dir).
        redis-server --daemonize yes --bind 127.0.0.1 --port "$port" --save "" --appendonly no \
            --dir "$dir" --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" || true
        for _ in $(seq 1 40); do
            if [ -s "$dir/redis.pid" ] && redis-cli -p "$port" config get dir 2>/dev/null | grep -qxF "$dir"; then
                export TEST_REDIS_URL="redis://127.0.0.1:$port/0"
                return 0
            fi
            sleep 0.1
        done
        echo "Redis did not start on port $port (attempt $attempt)" >&2
    done
    cat "$dir/redis.log" >&2 || true
    return 1
}
