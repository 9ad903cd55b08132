# OMO developer commands. `make help` lists them.
GO        ?= go
BIN       ?= bin/omo
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X main.version=$(VERSION)
PGURL     ?= postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable

.PHONY: help build run test test-postgres lint bench generate verify fuzz test-segment-node

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

build: ## build bin/omo (pure Go, CGO_ENABLED=0)
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/omo

run: build ## run the platform on the embedded SQLite default (./omo-data)
	./$(BIN) serve

test: ## run every test with -race (SQLite; PostgreSQL too when OMO_TEST_POSTGRES_URL is set)
	$(GO) test -race -count=1 -timeout 30m ./...

test-postgres: ## run every test on PostgreSQL only
	OMO_TEST_POSTGRES_URL='$(PGURL)' OMO_TEST_ENGINES=postgres $(GO) test -race -count=1 -timeout 30m ./...

test-segment-node: build ## Segment's official Node library (@segment/analytics-node from npm) against bin/omo
	cd test/segment-node && npm ci --no-audit --no-fund && OMO_BIN=../../$(BIN) node test.mjs

lint: ## vet and format check
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); exit 1)

FUZZ_PKGS ?= ./internal/customer ./internal/ingest ./internal/event ./internal/api ./internal/coupon ./internal/payment ./internal/order

fuzz: ## run each fuzz target for 30 s
	@for p in $(FUZZ_PKGS); do for f in $$($(GO) test $$p -list 'Fuzz.*' | grep ^Fuzz); do \
		$(GO) test $$p -run '^$$' -fuzz "^$$f$$" -fuzztime 30s || exit 1; done; done

generate: ## regenerate docs/api/openapi.json from the code
	$(GO) run ./cmd/omo openapi > docs/api/openapi.json

verify: ## fail when generated files or the two engines' migrations are out of step
	$(GO) run ./cmd/omo openapi | diff -u docs/api/openapi.json - || (echo "run: make generate"; exit 1)
	$(GO) test -count=1 -run 'TestMigrations_InStep|TestImportRules' ./internal/sqldb/ ./internal/architecture/

bench: build ## measure the figures in docs/performance.md (SQLite, then PostgreSQL at PGURL); results appended to bin/bench-results.md
	$(GO) build -o bin/omobench ./cmd/omobench
	./bin/omobench --omo $(BIN) --db sqlite --scenarios identify,lookup --out bin/bench-results.md
	./bin/omobench --omo $(BIN) --db sqlite --scenarios bulk --out bin/bench-results.md
	./bin/omobench --omo $(BIN) --db postgres --postgres-url '$(PGURL)' --scenarios identify,lookup --out bin/bench-results.md
	./bin/omobench --omo $(BIN) --db postgres --postgres-url '$(PGURL)' --scenarios bulk --out bin/bench-results.md
	./bin/omobench --omo $(BIN) --db sqlite --scenarios batch --out bin/bench-results.md
	./bin/omobench --omo $(BIN) --db postgres --postgres-url '$(PGURL)' --scenarios batch --out bin/bench-results.md
	./bin/omobench --omo $(BIN) --db sqlite --scenarios checkout --out bin/bench-results.md
	./bin/omobench --omo $(BIN) --db postgres --postgres-url '$(PGURL)' --scenarios checkout --out bin/bench-results.md
	./bin/omobench --omo $(BIN) --db sqlite --scenarios sales --out bin/bench-results.md
	./bin/omobench --omo $(BIN) --db postgres --postgres-url '$(PGURL)' --scenarios sales --out bin/bench-results.md
	./bin/omobench --omo $(BIN) --db sqlite --scenarios loyalty --out bin/bench-results.md
	./bin/omobench --omo $(BIN) --db postgres --postgres-url '$(PGURL)' --scenarios loyalty --out bin/bench-results.md
	$(GO) test -run X -bench IdentifyBatch -benchtime 25x ./internal/sqldb
	$(GO) test -run X -bench LookupPointPool -benchtime 100000x -count 3 ./internal/sqldb
	$(GO) test -run X -bench DecodeBatch ./internal/event
	$(GO) test -run X -bench NormalizePhone -benchtime 20000x ./internal/customer
	$(GO) test -run X -bench ImportOnlineRetail -benchtime 1x ./internal/ingest
	$(GO) test -run X -bench Upload50MB -benchtime 3x ./internal/ingest/sftp
	$(GO) test -run X -bench 'ExpireMillionLots|RedemptionRounds' -benchtime 1x -timeout 30m ./internal/sqldb
	$(GO) test -run XXX -bench BenchmarkRoute3Lines200Locations -benchtime 3000x -count 3 ./internal/routing
	$(GO) test -run XXX -bench 'BenchmarkCatalogSearch|BenchmarkPriceSKUs' -benchtime 3000x ./internal/sqldb
