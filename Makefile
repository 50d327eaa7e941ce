# Everyday commands. `make test` is what CI runs.
#
# The Go build embeds internal/web/static/vendor/, which `make assets` creates
# from the npm packages pinned in assets/package-lock.json, so every target
# that compiles Go runs `assets` first.

.PHONY: assets build run test

# npm writes this file on every install, so it is newer than the lockfile
# exactly when node_modules matches it.
NPM_STAMP := assets/node_modules/.package-lock.json

assets: $(NPM_STAMP)
	node assets/build.mjs

$(NPM_STAMP): assets/package.json assets/package-lock.json
	npm ci --prefix assets --no-audit --no-fund
	@touch $@

build: assets
	go build -o psims ./cmd/psims

run: build
	./psims serve

test: assets
	go vet ./...
	@unformatted="$$(gofmt -l .)"; \
	if [ -n "$$unformatted" ]; then echo "gofmt -w needed on:"; echo "$$unformatted"; exit 1; fi
	go test -race -count=1 ./...
