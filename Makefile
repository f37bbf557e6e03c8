# podsec - build, test and lint. GNU make.
#
#   make setup   install Debian packages and Go modules (scripts/setup; root)
#   make build   bin/podsec
#   make test    static checks (scripts/lint) + go test; root or non-root
#   make lint    gofmt + static checks + go vet
#   make fuzz    short fuzz run of FuzzPod in ./spec (FUZZTIME=20s)
#   make e2e     real etcd, kube-apiserver, kubectl, critest, containerd 2, runc
#                from the Go module proxy (cached in build/e2e), then test/e2e
#                against them (root)
#   make oci-conformance  runtime-tools validation: podsec-runtime, runc, crun (root)
#   make vagrant-test  make test in a Debian 12 VM built here (scripts/vagrant; root)
#   make vagrant-clean destroy that VM, its libvirt network and storage pool
#   make clean
#
# cgo is mandatory (libcontainer/nsenter) and seccomp needs the build tag
# `seccomp` with libseccomp-dev and pkg-config installed.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := build

# Go: use `go` from PATH, else the toolchain at /usr/local/go.
ifeq ($(shell command -v go 2>/dev/null),)
export PATH := /usr/local/go/bin:$(PATH)
endif

GO        ?= go
BUILDTAGS ?= seccomp
# Flags for every go command, exported so that `go` run by tests (e.g. a test
# that builds the binary) uses them too. Each must be -flag=value here.
# -buildvcs=false: the version comes from -ldflags, and VCS stamping fails
# when root builds a tree owned by another user (git "dubious ownership").
# The environment's GOFLAGS is kept; the tags are always ours.
override GOFLAGS := $(strip $(filter-out -tags=%,$(GOFLAGS)) -buildvcs=false -tags=$(BUILDTAGS))
export GOFLAGS
export CGO_ENABLED := 1

VERSION     ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS     ?= -X main.version=$(VERSION)
BIN         ?= bin/podsec
TESTTIMEOUT ?= 15m
TESTFLAGS   ?=
PKGS        ?= ./...
FUZZ        ?= FuzzPod
FUZZPKG     ?= ./spec/
FUZZTIME    ?= 20s

.PHONY: all setup build test lint fuzz clean oci-conformance

all: build

# Debian packages and Go modules, then the test images.
setup:
	scripts/setup
	$(MAKE) images

# Test images (localhost/busybox:latest, :nonroot, :named-user) in the image
# store of the state root ROOT (default $PODSEC_ROOT, else /var/lib/podsec).
ROOT ?= $(or $(PODSEC_ROOT),/var/lib/podsec)
.PHONY: images
images:
	scripts/images --root "$(ROOT)"

# Always handed to go build, which knows what is stale. Three binaries:
# bin/podsec, the OCI runtime bin/podsec-runtime (docs/oci-runtime.md) and
# bin/podsec-monitor, the detached pods' small watcher: static and
# stripped, as what stays resident per pod, and without asynchronous
# preemption (cmd/podsec-monitor/main.go says why; docs/architecture.md).
build:
	@mkdir -p $(dir $(BIN))
	$(GO) build -tags $(BUILDTAGS) -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/podsec
	$(GO) build -tags $(BUILDTAGS) -ldflags "$(LDFLAGS)" -o $(dir $(BIN))podsec-runtime ./cmd/podsec-runtime
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w -X runtime.godebugDefault=asyncpreemptoff=1" -o $(dir $(BIN))podsec-monitor ./cmd/podsec-monitor

# Needs no network beyond what `go` itself fetches (modules, if not downloaded).
test:
	scripts/lint
	$(GO) test -tags $(BUILDTAGS) -count=1 -timeout $(TESTTIMEOUT) $(TESTFLAGS) $(PKGS)

# The OCI runtime-tools validation suite against bin/podsec-runtime, runc
# and crun; fails when a file runc passes fails with podsec-runtime. Root.
# OCI_FILES=linux_devices,mounts runs only those files.
OCI_FILES ?=
oci-conformance: build
	scripts/oci-conformance $(subst $(comma), ,$(OCI_FILES))

comma := ,

# The e2e suite (test/e2e, build tag e2e): builds the pinned components of
# scripts/e2e-versions into build/e2e once, then runs the webhook in a real
# API server. Root.
# E2E_RUN=REGEXP runs only those tests. `make test` builds none of this.
.PHONY: e2e e2e-clean
e2e: build
	scripts/e2e

# Removes the built components (the Go build cache keeps their objects).
e2e-clean:
	rm -rf build/e2e

# A Debian 12 VM (vagrant-libvirt, a box built by scripts/vagrant-box) that
# runs the README's commands and make test; not part of CI (see README).
.PHONY: vagrant-test vagrant-clean
vagrant-test:
	scripts/vagrant test

vagrant-clean:
	scripts/vagrant clean

lint:
	scripts/lint --gofmt
	$(GO) vet -tags $(BUILDTAGS) $(PKGS)

fuzz:
	$(GO) test -tags $(BUILDTAGS) -run '^$$' -fuzz '^$(FUZZ)$$' -fuzztime $(FUZZTIME) $(FUZZPKG)

clean:
	rm -rf bin/ coverage.out coverage.html *.test
	$(GO) clean -testcache
