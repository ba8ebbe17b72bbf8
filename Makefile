# The two commands of README.md: `make run` and `make test`. Both install what is missing first.
SHELL := /bin/bash
KYSO_DATA ?= ./kyso-data
RELEASE := build/release/kyso

.PHONY: run tour test build deps dev fuzz bench format clean

deps:
	@scripts/install-deps.sh

build: deps
	@[ -f build/release/build.ninja ] || cmake --preset release >/dev/null
	@cmake --build --preset release

dev: deps
	@[ -f build/dev/build.ninja ] || cmake --preset dev >/dev/null
	@cmake --build --preset dev

# `make run` creates the demo data directory once, then runs the services on 127.0.0.1:8080.
run: build
	@if [ ! -f "$(KYSO_DATA)/kyso.db" ]; then $(RELEASE) --data "$(KYSO_DATA)" init --demo; fi
	@exec $(RELEASE) --data "$(KYSO_DATA)" serve --listen 127.0.0.1:8080

# A walk through the CA from the command line (issue, verify with openssl, revoke, CRLs, audit).
tour: build
	@if [ ! -f "$(KYSO_DATA)/kyso.db" ]; then $(RELEASE) --data "$(KYSO_DATA)" init --demo; fi
	@scripts/tour.sh "$(RELEASE)" "$(KYSO_DATA)"

test: dev
	@ctest --preset dev

bench: build
	@scripts/install-deps.sh --bench
	@scripts/bench.sh

fuzz:
	@scripts/install-deps.sh --fuzz
	@[ -f build/fuzz/build.ninja ] || cmake --preset fuzz >/dev/null
	@cmake --build --preset fuzz

format:
	@git ls-files '*.cc' '*.h' | xargs clang-format -i

clean:
	rm -rf build
