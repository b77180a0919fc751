# flowpol: the commands a newcomer needs.
GO        ?= go
BIN       ?= bin/flowpol
EXAMPLE   := testdata/example
EXAMPLEDB ?= $(or $(TMPDIR),/tmp)/flowpol-example.db

# VERSION is the release: the version flowpol prints and the image's tag,
# the tag deploy/base and deploy/chart reference.
VERSION   ?= $(shell cat VERSION)
REVISION  ?= $(shell git rev-parse HEAD 2>/dev/null)
LDFLAGS   := -X github.com/flowpol/flowpol/cmd/flowpol/cli.linkedVersion=$(VERSION)

export GONOSUMDB := github.com/np-guard

.PHONY: all build demo example test fuzz bench bench-deps vet lint generate check-generate ui kube-env image image-deps image-push install-plugin clean

all: build

build:
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/flowpol

## install-plugin: the kubectl plugin: flowpol, installed as kubectl-flowpol
## in PLUGINDIR (default: go env GOBIN, else GOPATH/bin), so that
## `kubectl flowpol ...` runs it against the kubeconfig's current context.
PLUGINDIR ?= $(or $(shell $(GO) env GOBIN),$(shell $(GO) env GOPATH)/bin)
install-plugin: build
	mkdir -p $(PLUGINDIR)
	install -m 0755 $(BIN) $(PLUGINDIR)/kubectl-flowpol
	@case ":$$PATH:" in *":$(PLUGINDIR):"*) ;; *) echo "note: $(PLUGINDIR) is not on PATH: kubectl will not find kubectl-flowpol until it is";; esac
	@echo "installed $(PLUGINDIR)/kubectl-flowpol: try kubectl flowpol version"

## image: flowpol's OCI image for linux/amd64 and linux/arm64, built without
## a container engine, as an OCI image layout in IMAGEDIR (bin/image), tagged
## VERSION. Reproducible: every file is stamped with the commit's time
## (SOURCE_DATE_EPOCH), so one commit gives one set of digests.
IMAGEDIR  ?= bin/image
IMAGEREPO ?= flowpol
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null)
image: image-deps
	$(GO) run ./internal/image/flowpol-image build --out $(IMAGEDIR) --version $(VERSION) \
	  --revision '$(REVISION)' --source-date-epoch '$(SOURCE_DATE_EPOCH)' --url https://github.com/flowpol/flowpol

## image-push: push IMAGEDIR to REGISTRY/IMAGEREPO:VERSION (credentials from
## docker or podman login), e.g. make image-push REGISTRY=registry.example.com/team
image-push: image
	@test -n "$(REGISTRY)" || { echo "make image-push: set REGISTRY, e.g. make image-push REGISTRY=registry.example.com/team"; exit 2; }
	$(GO) run ./internal/image/flowpol-image push --layout $(IMAGEDIR) $(REGISTRY)/$(IMAGEREPO):$(VERSION)

image-deps:
	@.ci/need image

## demo: a cluster of network-namespace pods running a small app on this
## machine: learn it live, generate, check and enforce its policies, and
## remove everything. Needs root (it uses sudo when not run as root).
## DEMOLEARN sets how long it learns; what it writes is kept in DEMODIR.
DEMOLEARN ?= 30s
DEMODIR   ?= $(or $(TMPDIR),/tmp)/flowpol-demo
SUDO      := $(if $(filter 0,$(shell id -u)),,sudo)
demo: build
	$(GO) build -o bin/flowpol-demo ./cmd/flowpol-demo
	$(SUDO) bin/flowpol-demo --flowpol $(BIN) --learn $(DEMOLEARN) --dir $(DEMODIR)

## example: learn the bundled example and print the policies it yields.
example: build
	rm -f $(EXAMPLEDB)
	$(BIN) learn --from $(EXAMPLE)/flows.jsonl --inventory $(EXAMPLE)/cluster.yaml --db $(EXAMPLEDB)
	$(BIN) generate --db $(EXAMPLEDB) --until 2026-11-22T12:00:00Z --window 3h

## generate: rebuild the eBPF objects and their Go bindings (needs clang, libbpf-dev).
generate:
	$(GO) generate ./bpf

## ui: build the review page (flowpol ui) from ui/ with npm, at the versions
## ui/package-lock.json pins, into ui/dist (committed and embedded).
ui:
	cd ui && npm ci --no-audit --no-fund && npm run build

## check-generate: fail when the committed eBPF output or the built review
## page is not what the sources give.
check-generate: generate ui
	@git diff --exit-code --stat -- bpf || { echo "bpf/: committed output is stale: run make generate and commit"; exit 1; }
	@test -z "$$(git status --porcelain -- bpf)" || { git status --porcelain -- bpf; echo "bpf/: untracked generated files"; exit 1; }
	@git diff --exit-code --stat -- ui/dist || { echo "ui/dist: committed page is stale: run make ui and commit"; exit 1; }
	@test -z "$$(git status --porcelain -- ui/dist)" || { git status --porcelain -- ui/dist; echo "ui/dist: untracked built files"; exit 1; }

## kube-env: build the etcd and kube-apiserver the tests run against, once
## (about ten minutes on two cores; cached outside the repo afterwards).
kube-env:
	$(GO) run ./internal/kubeenv/kube-env

## test: every test, vet and formatting.
test: vet kube-env
	$(GO) test -count=1 -timeout 30m ./...

vet:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt would change: $$unformatted"; exit 1; fi
	$(GO) vet ./...

## lint: the layering rules and unchecked errors (.golangci.yaml), with
## golangci-lint pinned in tools/go.mod (built on first use).
lint:
	$(GO) tool -modfile=tools/go.mod golangci-lint run ./...

## fuzz: run each fuzz target for FUZZTIME (default 30s).
FUZZTIME ?= 30s
fuzz:
	$(GO) test -run '^$$' -fuzz FuzzReader -fuzztime $(FUZZTIME) ./flow
	$(GO) test -run '^$$' -fuzz FuzzFastPath -fuzztime $(FUZZTIME) ./flow
	$(GO) test -run '^$$' -fuzz FuzzLoad -fuzztime $(FUZZTIME) ./inventory
	$(GO) test -run '^$$' -fuzz FuzzBlockJSON -fuzztime $(FUZZTIME) ./inventory
	$(GO) test -run '^$$' -fuzz FuzzDecodeBatch -fuzztime $(FUZZTIME) ./ingest/wire
	$(GO) test -run '^$$' -fuzz FuzzReader -fuzztime $(FUZZTIME) ./hubble
	$(GO) test -run '^$$' -fuzz FuzzRead -fuzztime $(FUZZTIME) ./policyfile

## bench: the pipeline benchmarks (and the review page's first paint at 2,000 workloads, in chromium) (capture, state and enforce need root, state kube-env); figures are printed. Learning runs on one
## core; FLOWPOL_BENCH_RECORDS=1000000 makes a quicker run than the 10 M default; FLOWPOL_BENCH_DAYS=90
## gives the baseline store's full 90-day figures (7 days by default here).
## The live-state benchmark runs at 30,000 pods and 4,000 Services (a few
## minutes); STATEPODS=150000 STATESERVICES=20000 is the full target (about
## half an hour on two shared cores, most of it creating the objects).
STATEPODS     ?= 30000
STATESERVICES ?= 4000
bench: bench-deps kube-env
	$(GO) test -run '^$$' -bench Reader -cpu 1 ./flow
	$(GO) test -run '^$$' -bench 'Load$$' -benchtime 3x -cpu 1,2 ./inventory
	$(GO) test -run '^$$' -bench Learn -benchtime 1x -cpu 1 -timeout 60m ./learn
	$(GO) test -run '^$$' -bench Generate -benchtime 3x -timeout 60m ./generator
	$(GO) test -run '^$$' -bench BytesPerEdgeMinute -benchtime 1x ./baseline/boltdb
	FLOWPOL_BENCH_DAYS=$${FLOWPOL_BENCH_DAYS:-7} $(GO) test -run '^$$' -bench Retention90Days -benchtime 1x -timeout 120m ./baseline/boltdb
	$(GO) test -run '^$$' -bench CaptureWrk -benchtime 1x -timeout 20m ./collector
	$(GO) test -run '^$$' -bench Resolve -cpu 1 ./resolve
	$(GO) test -run '^$$' -bench Check -benchtime 3x ./check
	$(GO) test -run '^$$' -bench StagedObserve -benchtime 3x ./staged
	$(GO) test -run '^$$' -bench 'Place(Learn)?$$' -benchtime 5000000x ./kubestate
	FLOWPOL_STATE_PODS=$(STATEPODS) FLOWPOL_STATE_SERVICES=$(STATESERVICES) $(GO) test -run '^$$' -bench StateChurn -benchtime 1x -timeout 60m ./kubestate
	$(GO) test -run '^$$' -bench 'Ingest$$' -benchtime 1x -timeout 30m ./ingest/server
	$(GO) test -run '^$$' -bench IngestClickHouse -benchtime 1x -timeout 30m ./ingest/server
	$(GO) test -run '^$$' -bench . -benchtime 3x -timeout 60m ./baseline/clickhouse
	$(GO) test -run '^$$' -bench Enforce -benchtime 1x -timeout 30m ./enforce
	$(GO) test -run '^$$' -bench FirstPaint -benchtime 1x -timeout 30m ./ui

bench-deps:
	@.ci/need bench

clean:
	rm -rf bin $(EXAMPLEDB)
