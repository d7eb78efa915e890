# wazuh-nats-gateway — the two commands a new user needs:
#   make demo   simulated Wazuh manager + local nats-server + gateway + subscriber, on this machine
#   make test   unit and integration tests (real nats-server, real SQLite) and a bounded fuzz run
#   make soak   the long reliability run (RELIABILITY.md): crash storms, NATS and cluster failures
#   make bench  the end-to-end benchmark suite; rewrites the generated table in BENCHMARKS.md
#               (make bench-quick: the same in under 5 minutes after the build)
SWIFT ?= swift
FUZZ_SECONDS ?= 45
FUZZ_AUTH_SECONDS ?= 20
FUZZ_WIRE_SECONDS ?= 20
FUZZ_WDB_SECONDS ?= 15
DEMO_ARGS ?= --duration 60s
BIN := .build/debug/wazuh-nats-gateway

.PHONY: deps build release test test-only coverage soak fuzz demo bench bench-quick bench-clients bench-security format lint clean

deps:
	@ops/install-deps.sh

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release

# Built with code coverage (one build serves both): the suite ends with the per-target coverage table.
test: deps
	$(SWIFT) build --build-tests --enable-code-coverage
	Fuzz/run.sh $(FUZZ_SECONDS) NATSParserFuzz
	Fuzz/run.sh $(FUZZ_AUTH_SECONDS) NATSAuthFuzz
	Fuzz/run.sh $(FUZZ_WDB_SECONDS) WazuhDBReplyFuzz
	Fuzz/run.sh $(FUZZ_WIRE_SECONDS) WireContractFuzz
	$(SWIFT) test --skip-build --no-parallel --enable-code-coverage
	Tests/coverage-report.sh

test-only:
	$(SWIFT) test

# The suite with code coverage, without the fuzz runs; line coverage per target, text and HTML
# reports under .build/coverage/.
coverage: deps
	$(SWIFT) build --build-tests --enable-code-coverage
	$(SWIFT) test --skip-build --no-parallel --enable-code-coverage
	Tests/coverage-report.sh

# The reliability scenarios at soak size (200 kills, 1000 agents, longer cluster outages); the
# bounded versions run in `make test`. RELIABILITY_SEED=N repeats a printed run.
soak: deps
	$(SWIFT) build --build-tests
	RELIABILITY_SOAK=1 $(SWIFT) test --skip-build --no-parallel --filter Reliability

fuzz: deps
	Fuzz/run.sh $(FUZZ_SECONDS) NATSParserFuzz
	Fuzz/run.sh $(FUZZ_SECONDS) NATSAuthFuzz
	Fuzz/run.sh $(FUZZ_SECONDS) WireContractFuzz
	Fuzz/run.sh $(FUZZ_SECONDS) WazuhDBReplyFuzz

demo: build
	$(BIN) demo $(DEMO_ARGS)

# The end-to-end suite (Benchmarks/suite.sh): latency, storms beside the C client, resources, cost model,
# the client comparison; one generated table in BENCHMARKS.md.
bench: deps
	Benchmarks/suite.sh

bench-quick: deps
	Benchmarks/suite.sh --quick

# Our NATS client against Debian's C client alone (one of the suite's steps).
bench-clients: deps
	Benchmarks/run.sh

bench-security: deps
	$(SWIFT) run -c release --package-path Benchmarks/security security-benchmark

format:
	$(SWIFT) format -i -r Sources Tests migrations

lint:
	$(SWIFT) format lint -r Sources Tests migrations

clean:
	rm -rf .build Fuzz/.build Benchmarks/.build Benchmarks/security/.build
