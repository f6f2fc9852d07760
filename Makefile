# The two commands a newcomer needs are in README.md: `go run ./cmd/coffer serve`
# and `make test`. CI runs `make check`, which is `make test` plus the linters.

GO ?= go
# The Go release coffer is built and tested with (go.mod's toolchain line),
# fetched by the Go command from the module proxy when the machine's is older.
export GOTOOLCHAIN ?= go1.27.3
FUZZTIME ?= 15s

.PHONY: test check lint vulncheck fuzz bench build

build:
	$(GO) build -o coffer ./cmd/coffer

# `make test` runs every test, then, when COFFER_TEST_POSTGRES names a
# database, runs the integration packages again (those whose tests start
# nodes with nodetest) with their nodes on PostgreSQL. internal/cluster is
# left out of that pass: it runs on PostgreSQL in the first.
NODETEST = github.com/coffer-dev/coffer/internal/node/nodetest

test:
	$(GO) test -race -count=1 -timeout 30m ./...
	@if [ -z "$$COFFER_TEST_POSTGRES" ]; then \
	  echo "COFFER_TEST_POSTGRES is not set: the PostgreSQL tests were skipped"; \
	else \
	  pkgs=$$($(GO) list -f '{{.ImportPath}}{{range .TestImports}} {{.}}{{end}}{{range .XTestImports}} {{.}}{{end}}' ./... | \
	    awk '{for (i = 2; i <= NF; i++) if ($$i == "$(NODETEST)") { print $$1; break }}' | grep -v '/internal/cluster$$'); \
	  echo "== integration packages on PostgreSQL:" $$pkgs; \
	  COFFER_TEST_BACKEND=postgres $(GO) test -race -count=1 -timeout 30m $$pkgs; \
	fi

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) tool staticcheck ./...

# govulncheck: the vulnerabilities that coffer's code reaches, in the Go
# vulnerability database: vuln.go.dev when this machine resolves it, else
# the database that the pinned module golang.org/x/vulndb holds (a flat
# directory of OSV records, data/osv, which govulncheck reads with
# -db file://), fetched through the Go module proxy like any module.
# .ci/vulngate.go fails on a vulnerability of a required module; one of the
# standard library fails too (VULNCHECK_STDLIB=warn only names the Go
# release that fixes it).
VULNDB_VERSION = v0.0.0-20261105234957-e22db6528018
VULNCHECK_STDLIB ?= fail

vulncheck:
	@if getent hosts vuln.go.dev >/dev/null 2>&1; then \
	  db=https://vuln.go.dev; \
	else \
	  $(GO) mod download golang.org/x/vulndb@$(VULNDB_VERSION) || exit 1; \
	  db=file://$$($(GO) env GOMODCACHE)/golang.org/x/vulndb@$(VULNDB_VERSION)/data/osv; \
	  echo "vuln.go.dev cannot be resolved: checking against golang.org/x/vulndb@$(VULNDB_VERSION) from the module proxy"; \
	fi; \
	report=$$(mktemp); \
	$(GO) tool govulncheck -db "$$db" -format json ./... > $$report || { rm -f $$report; echo "govulncheck failed"; exit 1; }; \
	$(GO) run .ci/vulngate.go -stdlib=$(VULNCHECK_STDLIB) < $$report; status=$$?; rm -f $$report; exit $$status

check: lint vulncheck test

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
