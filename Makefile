# loadplan — the commands a newcomer types. `make test` is what CI runs.
GO      ?= go
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2
# FUZZFLAGS: -fuzzminimizetime 0. Go minimises every input that adds coverage, not only a
# failing one, and those calls count against -fuzztime's N: with 200x per input, FuzzLoad spent
# its 20,000 calls minimising 121 inputs and tried 80 new ones; with 0 it tried 487 (a failing
# input is still written to testdata/fuzz, unminimised, and replays with go test -run).
FUZZFLAGS ?= -fuzzminimizetime 0

.PHONY: all build test test-deps vet check fuzz bench bench-deps install clean release-snapshot

all: build

build:
	$(GO) build -o bin/loadplan ./cmd/loadplan

install:
	$(GO) install ./cmd/loadplan

# test-deps installs the real servers the integration tests start (Prometheus, Pushgateway,
# InfluxDB 1.8 with the v2 write API) and the peer tools of the benchmark (wrk, hey).
test-deps:
	./scripts/install-test-deps.sh

vet:
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...
	@out="$$(gofmt -l $$(git ls-files '*.go'))"; if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

# fuzz runs each fuzz target (one per go test invocation) for a fixed count of inputs, not a
# time: the same work on any machine, about 80 CPU-seconds (under 2 minutes on 2 cores, builds
# cached). Their seed corpora (f.Add and testdata/fuzz) also run in every plain go test.
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzLoad$$' -fuzztime 50000x $(FUZZFLAGS) ./plan
	$(GO) test -run '^$$' -fuzz '^FuzzTemplateJSON$$' -fuzztime 10000x $(FUZZFLAGS) ./plan
	$(GO) test -run '^$$' -fuzz '^FuzzResponse$$' -fuzztime 200000x $(FUZZFLAGS) ./internal/h1
	$(GO) test -run '^$$' -fuzz '^FuzzHistogram$$' -fuzztime 20000x $(FUZZFLAGS) ./metrics
	$(GO) test -run '^$$' -fuzz '^FuzzWSFraming$$' -fuzztime 1000x $(FUZZFLAGS) ./executor/wsstep
	$(GO) test -run '^$$' -fuzz '^FuzzExporterMatchesOTLPTraceHTTP$$' -fuzztime 2000x $(FUZZFLAGS) ./outputs/otlp

# test is the project's test command: static checks, every test with the race detector
# (integration tests start real Prometheus and InfluxDB servers on loopback), and a short fuzz run.
test: test-deps vet
	$(GO) test -race -count=1 -timeout 30m ./...
	$(MAKE) fuzz

# bench runs bench/run.sh, which also installs the peers only the benchmark compares with (h2load,
# vegeta; see bench-deps): `make test` never installs them.
bench:
	./bench/run.sh

bench-deps:
	./scripts/install-bench-deps.sh

# release-snapshot builds every release archive (linux/darwin/windows × amd64/arm64) and
# checksums.txt into dist/ from .goreleaser.yaml, as a tagged release would, and publishes
# nothing. --skip=docker: the image needs a Docker engine with buildx (a release runner has one).
# goreleaser: go install github.com/goreleaser/goreleaser/v2@v2.17.0 (the version
# cmd/loadplan/release_test.go names; v2.18 needs Go 1.27).
GORELEASER ?= goreleaser
release-snapshot:
	$(GORELEASER) release --snapshot --clean --skip=docker

clean:
	rm -rf bin results
