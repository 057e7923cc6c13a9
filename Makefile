# loadplan — the commands a newcomer types. `make test` is what CI runs.
GO      ?= go
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2
# FUZZTIME is a count of inputs, not a time: the same amount of work on any machine.
FUZZTIME ?= 50000x

.PHONY: all build test test-deps vet check fuzz bench install clean

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

fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzLoad$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 200x ./plan

# test is the project's test command: static checks, every test with the race detector
# (integration tests start real Prometheus and InfluxDB servers on loopback), and a short fuzz run.
test: test-deps vet
	$(GO) test -race -count=1 -timeout 30m ./...
	$(MAKE) fuzz

bench:
	./bench/run.sh

clean:
	rm -rf bin results
