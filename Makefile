# tokenguard — make help lists the targets.
SHELL := /usr/bin/env bash
export PATH := $(PATH):/usr/local/go/bin
GO ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)
FUZZTIME ?= 20s
BENCHTIME ?= 1s

.PHONY: help
help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-12s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: build
build: ## build bin/tokenguard from ./cmd/webhook
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o bin/tokenguard ./cmd/webhook

.PHONY: run
run: build ## the main job: check the example manifests with the embedded catalog (exit 1 = findings, as expected)
	./bin/tokenguard check --cluster-version v1.30 examples/; rc=$$?; [ $$rc -le 1 ] || exit $$rc

.PHONY: test
test: lint ## all tests: unit, fuzz seed corpora, golden files (-race)
	$(GO) test -race -count=1 ./...

.PHONY: test-short
test-short: ## unit tests only, quick, without -race
	$(GO) test -short ./...

.PHONY: fuzz
fuzz: ## run every fuzz target for FUZZTIME each (default 20s)
	FUZZTIME=$(FUZZTIME) ./hack/fuzz.sh

.PHONY: bench
bench: ## Go benchmarks with -benchmem
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) ./...

.PHONY: loadtest
loadtest: ## admission load test: tokenguard serve vs the decode-only floor, 127.0.0.1 only (N= C= ROUNDS= RATE= SCENARIOS= REVIEW_ONLY=1)
	GO=$(GO) ./test/load/run.sh

.PHONY: lint
lint: ## gofmt check and go vet
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

.PHONY: golden
golden: ## regenerate golden files (review the diff!)
	UPDATE_GOLDEN=1 $(GO) test -count=1 ./...

.PHONY: clean
clean: ## remove build output
	rm -rf bin
