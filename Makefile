# casefile: `make run` and `make test` do all the set-up on a Debian machine with Go.
SHELL := /bin/bash
export GOFLAGS ?= -buildvcs=false
FUZZTIME ?= 30s

# The test suite uses the same local services as `make run`.
export CASEFILE_TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable
export CASEFILE_TEST_REDIS_ADDR ?= 127.0.0.1:6379
export CASEFILE_TEST_S3_ENDPOINT ?= $(or $(CASEFILE_S3_ENDPOINT),127.0.0.1:9000)
export CASEFILE_TEST_S3_ACCESS_KEY ?= $(or $(CASEFILE_S3_ACCESS_KEY),casefile)
export CASEFILE_TEST_S3_SECRET_KEY ?= $(or $(CASEFILE_S3_SECRET_KEY),casefile-dev-secret)

.PHONY: run test build services-up services-down services-status bench fuzz vet fmt-check clean

build:
	go build -o bin/casefile ./cmd/casefile

services-up:
	@scripts/services.sh up

services-down:
	@scripts/services.sh down

services-status:
	@scripts/services.sh status

run: services-up build
	./bin/casefile run

vet:
	go vet ./...

fmt-check:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt would change:"; echo "$$unformatted"; exit 1; fi

test: services-up fmt-check vet
	go test -race -count=1 -timeout 40m ./...

bench: services-up
	go run ./bench

# Runs every fuzz target for FUZZTIME each; new interesting inputs land in testdata/fuzz.
fuzz:
	@for pkg in $$(go list ./...); do \
	  for f in $$(go test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; go test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

clean: services-down
	rm -rf bin .data
