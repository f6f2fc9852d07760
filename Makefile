# The two commands a newcomer needs are in README.md: `go run ./cmd/coffer serve`
# and `make test`. CI runs `make check`, which is `make test` plus the linters.

GO ?= go
FUZZTIME ?= 15s

.PHONY: test check lint fuzz bench build

build:
	$(GO) build -o coffer ./cmd/coffer

test:
	$(GO) test -race -count=1 ./...

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) tool staticcheck ./...

check: lint test

# Short runs of every fuzz target; raise FUZZTIME for a longer hunt.
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for t in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz'); do \
	    echo "== $$pkg $$t"; $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...
