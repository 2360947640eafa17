# casefile: `make run` and `make test` do all the set-up on a Debian machine with Go (docs/setup.md).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
# make fuzz runs each fuzz target for FUZZTIME; make test runs each for TESTFUZZTIME after the tests.
# FUZZFLAGS is passed on (e.g. FUZZFLAGS='-parallel 1' on a shared machine).
FUZZTIME ?= 10m
TESTFUZZTIME ?= 20s
FUZZFLAGS ?=

# The tests use the services scripts/services.sh starts, with the S3 endpoint and credentials it started the
# S3 server with: CASEFILE_S3_ENDPOINT, CASEFILE_S3_ACCESS_KEY and CASEFILE_S3_SECRET_KEY, or their defaults.
export CASEFILE_TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable
export CASEFILE_TEST_REDIS_ADDR ?= 127.0.0.1:6379
export CASEFILE_TEST_S3_ENDPOINT ?= $(or $(CASEFILE_S3_ENDPOINT),127.0.0.1:9000)
export CASEFILE_TEST_S3_ACCESS_KEY ?= $(or $(CASEFILE_S3_ACCESS_KEY),casefile)
export CASEFILE_TEST_S3_SECRET_KEY ?= $(or $(CASEFILE_S3_SECRET_KEY),casefile-dev-secret)

.PHONY: assets build run test vet fmt-check bench fuzz services-up services-down services-status clean

# The web pages' stylesheets, scripts and images from the pinned npm packages, into web/assets/dist (embedded).
assets:
	@scripts/services.sh assets

build: assets
	go build -o bin/casefile ./cmd/casefile

# With the S3 accounts scripts/services.sh made (.data/s3.accounts), casefile runs with the app's, records and
# anchor credentials, and the root's goes to `casefile s3 setup` alone (the bucket and its policy).
run: services-up build
	@if [ -f .data/s3.accounts ]; then \
		env $$(cat .data/s3.accounts .data/s3.root) ./bin/casefile s3 setup && exec env $$(cat .data/s3.accounts) ./bin/casefile run; \
	else exec ./bin/casefile run; fi

test: services-up assets
	@scripts/services.sh test-deps
	@$(MAKE) --no-print-directory vet fmt-check
	go test -race -count=1 -timeout 40m ./...
	@# go test shows no output of a package that passes: the third-party warning's precision and recall over its
	@# labelled notes, printed here (the test fails under 0.9 each).
	@go test -count=1 -run '^TestLabelledPrecisionRecall$$' -v ./notes/thirdparty/ | grep '^third-party detection:'
	@$(MAKE) --no-print-directory fuzz FUZZTIME=$(TESTFUZZTIME)

vet:
	go vet ./...

# Fails listing the tracked Go files (every Go file, outside a git clone) that gofmt would change.
fmt-check:
	@files=$$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.*'); \
	unformatted=$$(printf '%s\n' "$$files" | xargs -r "$$(go env GOROOT)/bin/gofmt" -l); \
	if [ -n "$$unformatted" ]; then printf 'gofmt would change these files (gofmt -w them):\n%s\n' "$$unformatted"; exit 1; fi

bench: services-up
	go run ./bench

# Each fuzz target in the module for FUZZTIME (go test fuzzes one target of one package at a time); it fails
# on the first target that finds a failing input, which go test keeps under the package's testdata/fuzz (commit
# it with the fix: every later go test run replays it). What a target learns goes to go's cache, so that the
# next run starts from there. A run that fails without writing a failing input is go's coordinator ending a worker
# that the machine starved at the deadline (context deadline exceeded, golang/go#48926 and its kin): it is run once
# more, and fails the target only if that happens twice.
fuzz:
	@targets=$$(go test -list '^Fuzz' ./... | awk '/^Fuzz/ { names = names " " $$1 } /^ok/ { if (names != "") print $$2 names; names = "" }'); \
	while read -r pkg names; do \
		for name in $$names; do \
			echo "fuzz: $$pkg $$name for $(FUZZTIME)"; \
			dir=$$(go list -f '{{.Dir}}' "$$pkg")/testdata/fuzz/$$name; \
			before=$$( { ls "$$dir" 2>/dev/null || true; } | wc -l); \
			for try in 1 2; do \
				if go test -run '^$$' -fuzz "^$$name$$" -fuzztime $(FUZZTIME) $(FUZZFLAGS) "$$pkg" </dev/null; then break; fi; \
				if [ "$$( { ls "$$dir" 2>/dev/null || true; } | wc -l)" != "$$before" ]; then echo "fuzz: $$name found a failing input, kept in $$dir"; exit 1; fi; \
				if [ $$try = 2 ]; then echo "fuzz: $$name failed twice without writing a failing input"; exit 1; fi; \
				echo "fuzz: $$name stopped without writing a failing input (go's fuzzer ending a starved worker at the deadline, a known flake on a loaded machine); once more"; \
			done; \
		done; \
	done <<<"$$targets"

services-up:
	@scripts/services.sh up

services-down:
	@scripts/services.sh down

services-status:
	@scripts/services.sh status

# Build output only. .data/ holds the S3 objects that the casefile database refers to; docs/setup.md says how
# to start again from nothing.
clean:
	rm -rf bin
