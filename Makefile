# The front door. `make help` lists the targets.
#
#   make demo    bring up a local cluster and show relops working on it
#   make test    install what is missing, build, run every unit and e2e test

PRESET ?= dev
BUILD_DIR := build/$(PRESET)
RELOPS := $(BUILD_DIR)/operator/relops
CLUSTER ?= relops

.PHONY: help deps build unit e2e test demo run cluster-up cluster-down binaries bench clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-13s %s\n", $$1, $$2}'

deps: ## install missing Debian packages and tools (idempotent)
	@tests/install-deps.sh

build: deps ## configure and build with the $(PRESET) preset
	@cmake --preset $(PRESET) >/dev/null
	cmake --build --preset $(PRESET)

binaries: ## build the control-plane test binaries (cached outside the checkout)
	@tests/cluster/binaries.sh >/dev/null

unit: build ## run the unit tests
	ctest --preset dev -L unit --output-on-failure

e2e: build binaries ## run the e2e tests against a fresh local cluster
	ctest --test-dir $(BUILD_DIR) -L e2e --output-on-failure

test: build binaries ## everything CI runs: unit and e2e tests
	ctest --test-dir $(BUILD_DIR) -L 'unit|e2e' --output-on-failure

cluster-up: binaries ## start the local cluster $(CLUSTER) and print its kubeconfig
	@tests/cluster/up $(CLUSTER)

cluster-down: ## stop the local cluster $(CLUSTER) and remove its files
	@tests/cluster/down $(CLUSTER)

demo: build binaries ## bring up a local cluster and show relops on it
	@tests/demo.sh $(CLUSTER) $(RELOPS)

run: build binaries ## run relops against the local cluster $(CLUSTER) (started if needed)
	@kubeconfig="$$(tests/cluster/up $(CLUSTER))" && \
	  "$$(tests/cluster/binaries.sh)/kubectl" --kubeconfig "$$kubeconfig" \
	    apply --server-side -f crds/ >/dev/null && \
	  $(RELOPS) run --kubeconfig "$$kubeconfig" --log-format text --enable-calendars \
	    --metrics-bind-address 127.0.0.1:8080 --health-probe-bind-address 127.0.0.1:8081

bench: ## build with the release preset and run the benchmarks
	@cmake --preset release >/dev/null
	cmake --build --preset release
	ctest --test-dir build/release -L bench --output-on-failure

clean: ## remove build trees (the binary cache outside the checkout stays)
	rm -rf build
