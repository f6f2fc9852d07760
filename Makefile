# The two commands a newcomer needs are in README.md: `go run ./cmd/coffer serve`
# and `make test`. CI runs `make check`, which is `make test` plus the linters.

GO ?= go
FUZZTIME ?= 15s

.PHONY: test check lint fuzz bench build

build:
	$(GO) build -o coffer ./cmd/coffer

# `make test` runs every test, then, when COFFER_TEST_POSTGRES names a
# database, runs the integration packages again (those whose tests start
# nodes with nodetest) with their nodes on PostgreSQL. internal/cluster is
# left out of that pass: it runs on PostgreSQL in the first.
NODETEST = github.com/coffer-dev/coffer/internal/node/nodetest

test:
	$(GO) test -race -count=1 ./...
	@if [ -z "$$COFFER_TEST_POSTGRES" ]; then \
	  echo "COFFER_TEST_POSTGRES is not set: the PostgreSQL tests were skipped"; \
	else \
	  pkgs=$$($(GO) list -f '{{.ImportPath}}{{range .TestImports}} {{.}}{{end}}{{range .XTestImports}} {{.}}{{end}}' ./... | \
	    awk '{for (i = 2; i <= NF; i++) if ($$i == "$(NODETEST)") { print $$1; break }}' | grep -v '/internal/cluster$$'); \
	  echo "== integration packages on PostgreSQL:" $$pkgs; \
	  COFFER_TEST_BACKEND=postgres $(GO) test -race -count=1 $$pkgs; \
	fi

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) tool staticcheck ./...

check: lint test

# Short runs of every fuzz target; raise FUZZTIME for a longer hunt.
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  targets=$$($(GO) test -list '^Fuzz' $$pkg) || { echo "cannot list the fuzz targets of $$pkg"; exit 1; }; \
	  for t in $$(echo "$$targets" | grep '^Fuzz'); do \
	    echo "== $$pkg $$t"; $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...
