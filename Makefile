# wazuh-nats-gateway — the two commands a new user needs:
#   make demo   simulated Wazuh manager + local nats-server + gateway + subscriber, on this machine
#   make test   unit and integration tests (real nats-server, real SQLite) and a bounded fuzz run
SWIFT ?= swift
FUZZ_SECONDS ?= 45
FUZZ_AUTH_SECONDS ?= 20
DEMO_ARGS ?= --duration 60s
BIN := .build/debug/wazuh-nats-gateway

.PHONY: deps build release test test-only fuzz demo bench bench-security format lint clean

deps:
	@ops/install-deps.sh

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release

test: deps
	$(SWIFT) build --build-tests
	Fuzz/run.sh $(FUZZ_SECONDS) NATSParserFuzz
	Fuzz/run.sh $(FUZZ_AUTH_SECONDS) NATSAuthFuzz
	$(SWIFT) test --skip-build --no-parallel

test-only:
	$(SWIFT) test

fuzz: deps
	Fuzz/run.sh $(FUZZ_SECONDS) NATSParserFuzz
	Fuzz/run.sh $(FUZZ_SECONDS) NATSAuthFuzz

demo: build
	$(BIN) demo $(DEMO_ARGS)

bench: deps
	Benchmarks/run.sh

bench-security: deps
	$(SWIFT) run -c release --package-path Benchmarks/security security-benchmark

format:
	$(SWIFT) format -i -r Sources Tests migrations

lint:
	$(SWIFT) format lint -r Sources Tests migrations

clean:
	rm -rf .build Fuzz/.build Benchmarks/.build Benchmarks/security/.build
