# The two commands of README.md: `make run` and `make test`. Both install what is missing first.
SHELL := /bin/bash
KYSO_DATA ?= ./kyso-data
RELEASE := build/release/kyso

.PHONY: run tour test build deps dev web fuzz bench format clean

deps:
	@scripts/install-deps.sh

# `make run` builds what it runs: the kyso binary and the portal, not the tests and benches.
build: deps web
	@[ -f build/release/build.ninja ] || cmake --preset release >/dev/null
	@cmake --build --preset release --target kyso

# The portal (web/, TypeScript + Vite) built into web/dist, which `kyso serve` serves at `/`.
# npm packages come from the committed lockfile; `npm ci` runs again only when it changed.
web: deps
	@cd web && { [ node_modules/.package-lock.json -nt package-lock.json ] || npm ci --no-audit --no-fund --loglevel=error; }
	@cd web && npm run --silent build

dev: deps
	@[ -f build/dev/build.ninja ] || cmake --preset dev >/dev/null
	@cmake --build --preset dev

# `make run` creates the demo data directory once, then runs the services on 127.0.0.1:8080.
# The URL and the demo accounts are printed on every start, not only by the first `init --demo`.
run: build
	@if [ ! -f "$(KYSO_DATA)/kyso.db" ]; then $(RELEASE) --data "$(KYSO_DATA)" init --demo; fi
	@echo "kyso: open http://127.0.0.1:8080/ ; demo accounts (role username password) in $(KYSO_DATA)/demo-accounts.txt"
	@exec $(RELEASE) --data "$(KYSO_DATA)" serve --listen 127.0.0.1:8080

# A walk through the CA from the command line (issue, verify with openssl, revoke, CRLs, audit).
tour: build
	@if [ ! -f "$(KYSO_DATA)/kyso.db" ]; then $(RELEASE) --data "$(KYSO_DATA)" init --demo; fi
	@scripts/tour.sh "$(RELEASE)" "$(KYSO_DATA)"

test: deps web
	@scripts/install-deps.sh --test
	@[ -f build/dev/build.ninja ] || cmake --preset dev >/dev/null
	@cmake --build --preset dev
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
	rm -rf build web/dist web/node_modules
