# Purchase saga: build, test, lint, run. See README.md.
GO          ?= go
BIN         := bin
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.7.0
COMMANDS    := ./order-service ./stock-service ./payment-service ./messaging/cmd/sagactl ./messaging/cmd/devbroker
# Workspace builds carry no VCS stamp: saga_build_info's revision comes from here.
REVISION    := $(shell r=$$(git rev-parse --short=12 HEAD 2>/dev/null) && { git diff --quiet HEAD && echo $$r || echo $$r-modified; })

.PHONY: build test test-short lint run bench tidy

## build: the three services, sagactl and devbroker into bin/
build:
	@mkdir -p $(BIN)
	$(GO) build -ldflags '-X github.com/purchase-saga/messaging/service.linkedRevision=$(REVISION)' -o $(BIN)/ $(COMMANDS)

## test: every module's tests against real PostgreSQL and a real broker
test:
	scripts/test.sh

## test-short: the same without the slow end-to-end suites
test-short:
	scripts/test.sh -short

## lint: gofmt, go vet and staticcheck over every module
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet $$($(GO) list -m -f '{{.Dir}}/...')
	$(GO) run $(STATICCHECK) $$($(GO) list -m -f '{{.Dir}}/...')

## run: the whole system on this machine (dev broker, PostgreSQL, three services)
run: build
	scripts/run-local.sh

## bench: throughput and latency benchmarks, results printed and written as JSON
bench: build
	scripts/bench.sh

## tidy: go mod tidy in every module
tidy:
	for d in $$($(GO) list -m -f '{{.Dir}}'); do (cd $$d && $(GO) mod tidy); done
