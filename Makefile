# tracegate — make targets. `make test` is the README's test command and
# what CI runs (through .ci/run).
SHELL := /bin/bash
export PATH := $(PATH):/usr/local/go/bin:/usr/sbin
GO ?= go
EPCIS_DATA ?= ../shared/data/epcis
TEST_TIMEOUT ?= 25m

.PHONY: all build test deps vet unit conformance bench up fmt clean

all: build

build:
	$(GO) build -o bin/tracegate ./cmd/tracegate

deps:
	@bash scripts/install-deps.sh

vet:
	@test -z "$$(gofmt -l $$(git ls-files -co --exclude-standard '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files -co --exclude-standard '*.go'); exit 1; }
	$(GO) vet ./...

# Every test: unit, end-to-end (embedded broker and a real Mosquitto), crash,
# browser. Nothing is skipped: a missing component is installed by deps or
# the test fails.
test: deps vet
	$(GO) test -race -count=1 -timeout $(TEST_TIMEOUT) ./...

# EPCIS 2.0 conformance against GS1's official examples (folder given by
# EPCIS_DATA; fails loudly without it).
conformance:
	$(GO) test -count=1 ./edge/epcis -run Conformance -epcis-data=$(abspath $(EPCIS_DATA)) -v

bench: build
	./bin/tracegate bench

up:
	$(GO) run ./cmd/tracegate up

fmt:
	gofmt -w $$(git ls-files -co --exclude-standard '*.go')

clean:
	rm -rf bin
