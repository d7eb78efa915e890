# wazuh-nats-gateway — the two commands a new user needs:
#   make demo   simulated Wazuh manager + local nats-server + gateway + subscriber, on this machine
#   make test   unit and integration tests (real nats-server, real SQLite) and a bounded fuzz run
SWIFT ?= swift
FUZZ_SECONDS ?= 45
FUZZ_AUTH_SECONDS ?= 20
FUZZ_WIRE_SECONDS ?= 20
DEMO_ARGS ?= --duration 60s
BIN := .build/debug/wazuh-nats-gateway

.PHONY: deps build release test test-only coverage fuzz demo bench format lint clean

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

fuzz: deps
	Fuzz/run.sh $(FUZZ_SECONDS) NATSParserFuzz
	Fuzz/run.sh $(FUZZ_SECONDS) NATSAuthFuzz
	Fuzz/run.sh $(FUZZ_SECONDS) WireContractFuzz

demo: build
	$(BIN) demo $(DEMO_ARGS)

bench: deps
	Benchmarks/run.sh

format:
	$(SWIFT) format -i -r Sources Tests migrations

lint:
	$(SWIFT) format lint -r Sources Tests migrations

clean:
	rm -rf .build Fuzz/.build Benchmarks/.build
