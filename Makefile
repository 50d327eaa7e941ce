# Everyday commands. `make test` is what CI runs.
#
# The Go build embeds internal/web/static/vendor/, which `make assets` creates
# from the npm packages pinned in assets/package-lock.json, so every target
# that compiles Go runs `assets` first.

.PHONY: assets fhirclient build run lint check test

# Go 1.26.8, which these machines start with, has 13 vulnerabilities in the
# standard library (net/http, crypto/tls, crypto/x509, html/template,
# net/textproto) that PSIMS calls, found by govulncheck below; Go 1.27.3
# fixes them. The go command fetches that toolchain once through the module
# proxy and runs every target with it.
export GOTOOLCHAIN := go1.27.3

# staticcheck and govulncheck are pinned, with checksums, in tools/go.mod and
# tools/go.sum: a module of their own, so their dependencies stay out of
# PSIMS's go.mod. `go tool -modfile` builds them from there (cached after the
# first time) and runs them here, on PSIMS.
TOOL := go tool -modfile=tools/go.mod

# govulncheck reads the Go vulnerability database from a pinned commit of
# golang.org/x/vulndb, fetched like any module through the module proxy and
# checked against the checksum database, rather than from vuln.go.dev, which
# not every machine that runs this can reach; and a pin makes the result
# depend only on the commit. The module's data/osv holds one OSV file per
# report, which govulncheck's -db file://DIR reads as it is. To pick up newer
# reports, move the pin to `go list -m golang.org/x/vulndb@latest`.
VULNDB := golang.org/x/vulndb@v0.0.0-20261105234957-e22db6528018

# npm writes this file on every install, so it is newer than the lockfile
# exactly when node_modules matches it.
NPM_STAMP := assets/node_modules/.package-lock.json

assets: $(NPM_STAMP)
	node assets/build.mjs

# The FHIR client library the API's tests drive PSIMS with (fhir-kit-client,
# pinned in its lockfile), installed like the assets.
FHIR_CLIENT := internal/fhir/testdata/client
FHIR_CLIENT_STAMP := $(FHIR_CLIENT)/node_modules/.package-lock.json

fhirclient: $(FHIR_CLIENT_STAMP)

$(FHIR_CLIENT_STAMP): $(FHIR_CLIENT)/package.json $(FHIR_CLIENT)/package-lock.json
	npm ci --prefix $(FHIR_CLIENT) --no-audit --no-fund
	@touch $@

$(NPM_STAMP): assets/package.json assets/package-lock.json
	npm ci --prefix assets --no-audit --no-fund
	@touch $@

build: assets
	go build -o psims ./cmd/psims

run: build
	./psims serve

# GOVULNCHECK prints the date of the pinned reports, then checks PSIMS
# against them.
GOVULNCHECK = go mod download $(VULNDB) && \
	go list -m -f 'govulncheck: reports in golang.org/x/vulndb as of {{.Time.Format "2 January 2006"}} ({{.Version}})' $(VULNDB) && \
	$(TOOL) govulncheck -db file://$$(go env GOMODCACHE)/$(VULNDB)/data/osv ./...

# The quick static checks, which fail on any finding.
lint: assets
	go vet ./...
	@unformatted="$$(gofmt -l .)"; \
	if [ -n "$$unformatted" ]; then echo "gofmt -w needed on:"; echo "$$unformatted"; exit 1; fi
	$(TOOL) staticcheck ./...

# Every static check, govulncheck included.
check: lint
	$(GOVULNCHECK)

# The static checks, then the tests. govulncheck builds the whole call graph
# (two to three minutes here, mostly on one core), so it runs beside the
# tests rather than before them; either failing fails the target. The
# browser tests take about eleven minutes on 2 CPUs and the web package's
# about nineteen (its authorisation matrix walks every route as every
# role on both engines, under the race detector), past go test's default
# limit of ten per package, so the limit is forty: a busy machine must not
# turn a slow run into a failure.
test: lint fhirclient
	@out="$$(mktemp)"; ( $(GOVULNCHECK) ) >"$$out" 2>&1 & vuln=$$!; \
	go test -race -count=1 -timeout 40m ./...; tests=$$?; \
	wait $$vuln; vulns=$$?; cat "$$out"; rm -f "$$out"; \
	if [ $$vulns -ne 0 ]; then echo "govulncheck found vulnerabilities (above)"; fi; \
	[ $$tests -eq 0 ] && [ $$vulns -eq 0 ]
