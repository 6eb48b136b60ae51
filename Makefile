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
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_-]+:.*## / {printf "  %-12s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: build
build: ## build bin/tokenguard from ./cmd/webhook
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o bin/tokenguard ./cmd/webhook

.PHONY: run
run: build ## check the example manifests offline with the embedded catalog (exit 1 = findings, as expected)
	./bin/tokenguard check --cluster-version v1.30 examples/; rc=$$?; [ $$rc -le 1 ] || exit $$rc

.PHONY: test
test: lint ## all tests: unit, fuzz seed corpora, golden files, end-to-end against a real kube-apiserver (-race)
	./hack/test-deps.sh
	@echo "== control-plane binaries for the end-to-end tests (a cold build takes several minutes)"
	bin=$$(./hack/e2e-binaries.sh | tee /dev/stderr | tail -n 1) && \
	  TOKENGUARD_E2E_BIN=$$bin TOKENGUARD_HELM=$$(./hack/tools/helm/build.sh | tail -n 1) $(GO) test -race -count=1 -timeout 40m $$($(GO) list ./... | grep -v -e /test/e2e/faults -e /test/corpus) && \
	  echo "== alone, without -race (they measure time and memory): three replicas under faults through the real API server; the layer-scan corpus beside syft" && \
	  TOKENGUARD_E2E_BIN=$$bin $(GO) test -p 1 -count=1 -timeout 40m ./test/e2e/faults/ ./test/corpus/ && \
	  $(GO) test -count=1 -run 'TestLayerScanMemoryBounded' ./pkg/sdkdetect/registry/

.PHONY: test-short
test-short: ## unit tests only, quick, without -race; skips the end-to-end tests
	$(GO) test -short ./...

.PHONY: faults
faults: ## the replica fault scenarios at 100 pods/s for 60 s each (FAULTS_RATE= FAULTS_SECONDS=); figures in bin/faults.txt
	mkdir -p bin && bin=$$(./hack/e2e-binaries.sh | tee /dev/stderr | tail -n 1) && \
	  TOKENGUARD_E2E_BIN=$$bin TOKENGUARD_FAULTS_RATE=$${FAULTS_RATE:-100} TOKENGUARD_FAULTS_SECONDS=$${FAULTS_SECONDS:-60} \
	  TOKENGUARD_FAULTS_FIGURES=$(CURDIR)/bin/faults.txt $(GO) test -count=1 -timeout 40m -v -run TestReplicasUnderFaults ./test/e2e/faults/ >bin/faults.log 2>&1; \
	  rc=$$?; grep -v "admission review judged" bin/faults.log | tail -n 60; exit $$rc

.PHONY: controller-scale
controller-scale: ## tokenguard controller on 2,000 then 10,000 pods (200, 1,000 images) through a real API server, ~6 min: time to all reports, writes, peak RSS, largest report (SCALE_SIZES=pods:images,...)
	bin=$$(./hack/e2e-binaries.sh | tee /dev/stderr | tail -n 1) && \
	  TOKENGUARD_E2E_BIN=$$bin TOKENGUARD_SCALE_SIZES=$(SCALE_SIZES) $(GO) test -count=1 -timeout 40m -run '^$$' -bench BenchmarkControllerScale -benchtime=1x ./test/scale/

.PHONY: layer-bench
layer-bench: ## the layer-scan corpus (27 images) beside syft, built once from the module proxy: findings, wall time, peak RSS
	LAYER_CORPUS_SYFT=1 ./hack/layer-corpus.sh && \
	  $(GO) test -count=1 -timeout 60m -run TestCorpus -v ./test/corpus/ | grep -v -e "^=== RUN" -e "^    --- PASS"

.PHONY: chart
chart: ## the Helm chart: build helm (cached), regenerate its README values table and copies of deploy/ files, lint and render every ci/ values file
	helm=$$(./hack/tools/helm/build.sh | tail -n 1) && $(GO) generate ./charts/ && \
	  TOKENGUARD_HELM=$$helm $(GO) test -count=1 ./charts/

.PHONY: e2e-binaries
e2e-binaries: ## build (or reuse) kube-apiserver, kube-controller-manager and etcd in ~/.cache/tokenguard/e2e
	./hack/e2e-binaries.sh

.PHONY: e2e
e2e: ## only the end-to-end tests
	bin=$$(./hack/e2e-binaries.sh | tee /dev/stderr | tail -n 1) && \
	  TOKENGUARD_E2E_BIN=$$bin $(GO) test -count=1 -timeout 40m -v ./test/e2e/...

.PHONY: demo
demo: build ## the main job for a newcomer: a local control plane, tokenguard serve, examples/ applied; prints warnings and denials
	bin=$$(./hack/e2e-binaries.sh | tee /dev/stderr | tail -n 1) && \
	  TOKENGUARD_E2E_BIN=$$bin $(GO) run ./test/e2e/demo -tokenguard bin/tokenguard -examples examples

.PHONY: fuzz
fuzz: ## run every fuzz target for FUZZTIME each (default 20s)
	FUZZTIME=$(FUZZTIME) ./hack/fuzz.sh

.PHONY: bench
bench: ## Go benchmarks with -benchmem
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) ./...

.PHONY: loadtest
loadtest: ## admission load test: tokenguard serve vs the decode-only floor, 127.0.0.1 only (N= C= ROUNDS= RATE= SCENARIOS= REVIEW_ONLY=1)
	GO=$(GO) ./test/load/run.sh

.PHONY: loadtest-peers
loadtest-peers: ## issue #8 suite, ~11 min: tokenguard, floor, PSA, OPA at c=8, c=1, 1,000 req/s + cache RSS; bin/loadtest/summary.md with targets ✓/✗, 127.0.0.1 only (SUITE_PHASES= C8_N= C1_N= ROUNDS= OPA_API= CACHE_IMAGES= CHECK_TARGETS=1; SUITE=0: one run)
	GO=$(GO) ./test/load/peers.sh

.PHONY: soak
soak: ## 20-minute soak of tokenguard serve at a fixed rate: RSS, open files, goroutines flat (SOAK_DURATION= RATE= SAMPLE=; bin/soak/soak.md)
	GO=$(GO) ./test/load/soak.sh

.PHONY: lint
lint: ## gofmt check and go vet
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

.PHONY: golden
golden: ## regenerate golden files (review the diff!)
	UPDATE_GOLDEN=1 $(GO) test -count=1 ./...

IMAGE ?=
.PHONY: image
image: ## the image without Docker: linux/amd64+arm64 OCI index in bin/image, SPDX SBOMs as referrers (IMAGE=host/repo:tag pushes it)
	base=$$(./hack/image/fetch-base.sh | tail -n 1) && \
	  $(GO) run ./hack/image -version $(VERSION) -base "$$base" -out bin/image $(if $(IMAGE),-push $(IMAGE))

DOCKER_IMAGE ?= ghcr.io/tokenguard/tokenguard:$(VERSION)
.PHONY: docker-image
docker-image: ## the same image from the Dockerfile with Docker (needs a Docker engine; these development machines have none)
	@command -v docker >/dev/null && docker info >/dev/null 2>&1 || { echo "make docker-image needs a running Docker engine (none on this machine); make image needs none"; exit 1; }
	docker build --build-arg VERSION=$(VERSION) -t $(DOCKER_IMAGE) .

.PHONY: clean
clean: ## remove build output
	rm -rf bin
