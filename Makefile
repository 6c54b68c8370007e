# The front door. `make help` lists the targets.
#
#   make demo    bring up a local cluster and show relops working on it
#   make test    install what is missing, build, run every unit and e2e test

PRESET ?= dev
BUILD_DIR := build/$(PRESET)
RELOPS := $(BUILD_DIR)/app/relops
CLUSTER ?= relops

# ccache keyed on paths relative to the checkout, so every clone (CI's included) shares
# one cache instead of rebuilding from scratch.
export CCACHE_BASEDIR := $(CURDIR)
export CCACHE_NOHASHDIR := 1

.PHONY: help deps build unit unit-asan unit-tsan fuzz e2e test demo run cluster-up cluster-down \
	binaries bench clean sanitizer-builds

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

# E2E tests mostly wait on the cluster, so independent ones run side by side (RUN_SERIAL ones
# alone); E2E_JOBS=1 runs them one at a time.
E2E_JOBS ?= 4
e2e: build binaries ## run the e2e tests against a fresh local cluster
	ctest --test-dir $(BUILD_DIR) -L e2e -j$(E2E_JOBS) --output-on-failure

# Unit tests that run no relops code (formatting, generated-file drift, Lua health checks,
# promtool on golden files, the OCI image) are not repeated under the sanitizers.
SANITIZER_SKIP := ^unit[.](clang_format|argocd[.].*|install[.].*|slo[.]promtool_.*)$$

unit-asan: deps ## the unit tests under AddressSanitizer and UBSan (asan preset)
	@cmake --preset asan >/dev/null
	cmake --build --preset asan --target relops_unit_test_targets
	ctest --preset asan -E '$(SANITIZER_SKIP)'

unit-tsan: deps ## the unit tests under ThreadSanitizer (tsan preset)
	@cmake --preset tsan >/dev/null
	cmake --build --preset tsan --target relops_unit_test_targets
	ctest --preset tsan -E '$(SANITIZER_SKIP)'

FUZZ_SECONDS ?= 20
FUZZ_SEED ?= 0
fuzz: deps ## build the libFuzzer targets (clang) and run each for FUZZ_SECONDS (default 20; FUZZ_SEED=N repeats a run)
	@cmake --preset fuzz -DRELOPS_FUZZ_SECONDS=$(FUZZ_SECONDS) -DRELOPS_FUZZ_SEED=$(FUZZ_SEED) >/dev/null
	cmake --build --preset fuzz --target relops_fuzz_targets
	ctest --preset fuzz

# The sanitizer and fuzz builds only compile and link: `make test` starts them beside the unit
# and e2e tests, which mostly wait on the clusters, at the lowest CPU priority (nice 19), so
# they take the CPU the tests leave idle (on a fresh machine that is most of their 20 minutes
# of compiling) and a test never waits for them. Their log is build/sanitizer-builds.log.
sanitizer-builds: deps ## build (not run) the asan, tsan and fuzz trees, one after the other
	@cmake --preset asan >/dev/null
	cmake --build --preset asan --target relops_unit_test_targets
	@cmake --preset tsan >/dev/null
	cmake --build --preset tsan --target relops_unit_test_targets
	@cmake --preset fuzz -DRELOPS_FUZZ_SECONDS=$(CI_FUZZ_SECONDS) -DRELOPS_FUZZ_SEED=1 >/dev/null
	cmake --build --preset fuzz --target relops_fuzz_targets

# `make test` removes each sanitizer build tree once its tests have passed (ccache keeps the
# objects, so a rerun relinks in a minute): with debug info they are 2-4 GB each, and a fresh
# machine may have little disk. The control-plane binaries are built before relops, so their
# Go build cache (4 GB, removed when they are done) never sits beside the C++ trees.
# DISK_NEED_GIB is the measured peak of a run on a fresh machine.
CI_FUZZ_SECONDS ?= 5
DISK_NEED_GIB ?= 12
test: ## everything CI runs: unit and e2e tests, the unit tests under ASan/UBSan and TSan, a short run of each fuzz target
	@tests/disk-check.sh $(DISK_NEED_GIB)
	@$(MAKE) --no-print-directory deps binaries build
	@mkdir -p build; \
	setsid nice -n 19 $(MAKE) --no-print-directory sanitizer-builds >build/sanitizer-builds.log 2>&1 & \
	builds=$$!; \
	ctest --test-dir $(BUILD_DIR) -L 'unit|e2e' -j$(E2E_JOBS) --output-on-failure; tests=$$?; \
	if [ $$tests -ne 0 ]; then kill -- -$$builds 2>/dev/null; wait $$builds; exit $$tests; fi; \
	wait $$builds || { echo "sanitizer builds failed:"; tail -50 build/sanitizer-builds.log; exit 1; }
	@$(MAKE) --no-print-directory unit-asan
	rm -rf build/asan
	@$(MAKE) --no-print-directory unit-tsan
	rm -rf build/tsan
	@$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=$(CI_FUZZ_SECONDS) FUZZ_SEED=1
	rm -rf build/fuzz

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
	  key="$${XDG_STATE_HOME:-$$HOME/.local/state}/relops/calendar-key" && mkdir -p "$$(dirname "$$key")" && \
	  { [ -f "$$key" ] || (umask 077 && python3 -c 'import secrets; print(secrets.token_hex(32))' >"$$key"); } && \
	  $(RELOPS) run --kubeconfig "$$kubeconfig" --log-format text --metrics-secure=false \
	    --calendar-bind-address 127.0.0.1:8090 --calendar-key-file "$$key" \
	    --metrics-bind-address 127.0.0.1:8080 --health-probe-bind-address 127.0.0.1:8081

bench: ## build with the release preset and run the benchmarks
	@cmake --preset release >/dev/null
	cmake --build --preset release
	ctest --test-dir build/release -L bench --output-on-failure

SCALE ?= 1000 10000
.PHONY: bench-scale
# PEERS="pyrra=PATH sloth=PATH" measures those peer operators beside relops, each on a fresh
# cluster (binaries from tests/bench/build-peers.sh; see the README's Performance section).
PEERS ?=

bench-scale: binaries ## the scale benchmark at SCALE SLOs (default "1000 10000"), release build; PEERS="pyrra=PATH sloth=PATH" adds peers
	@cmake --preset release >/dev/null
	cmake --build --preset release --target relops
	@for n in $(SCALE); do \
	  python3 tests/bench/scale_bench.py --relops build/release/app/relops \
	    --objectives $$n --cluster bench-scale --output build/release/bench/scale-$$n.md \
	    $(foreach peer,$(PEERS),--peer $(peer)) || exit 1; \
	done

clean: ## remove build trees (the binary cache outside the checkout stays)
	rm -rf build
