# patdesk: `make run` builds and serves the app; `make test` runs every test.
# Both install whatever is missing first (see scripts/ensure-tools.sh).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
# cargo installs the build tools into $CARGO_HOME/bin (~/.cargo/bin unless CARGO_HOME is set).
export PATH := $(CURDIR)/tools/node_modules/.bin:$(or $(CARGO_HOME),$(HOME)/.cargo)/bin:$(PATH)

# The same values cargo-leptos passes when it builds the server: keeping them in the
# environment of `cargo test` lets it reuse the release build instead of rebuilding Leptos.
LEPTOS_ENV_VARS := LEPTOS_OUTPUT_NAME=patdesk LEPTOS_SITE_ROOT=target/site LEPTOS_SITE_PKG_DIR=pkg

CARGO_TEST := $(LEPTOS_ENV_VARS) cargo test --release --locked
TEST_LOG := target/test-log.txt

.PHONY: run build tools test-tools test test-rust test-rust-postgres test-openapi test-fuzz test-scanners test-scim test-e2e bench lint fmt clean

## run: build everything (release) and serve http://127.0.0.1:3000 on ./data/patdesk.db
run: build
	LEPTOS_SITE_ROOT=target/site ./target/release/patdesk serve

## build: the server binary and the wasm/js/css bundle under target/site
# cargo-leptos's wasm-opt runs (one a file) are noted by scripts/wasm-opt-later and done in one
# batch by scripts/optimize-wasm.mjs: the same bytes in a tenth of the time; the brotli and gzip
# copies are written after that, and after the bundles (docs/first-run.md, docs/frontend.md).
WASM_OPT_LIST := target/wasm-opt-list
build: tools
	@echo "==> building patdesk: the server and the browser's wasm (release; the first time about 9 minutes on 2 cores, cargo names each crate)" >&2
	@rm -f $(WASM_OPT_LIST)
	PATH="$(CURDIR)/scripts/wasm-opt-later:$$PATH" PATDESK_WASM_OPT_LIST="$(CURDIR)/$(WASM_OPT_LIST)" \
		./scripts/with-progress.sh "building patdesk" cargo leptos build --release --split
	@echo "==> optimizing the wasm files (wasm-opt -Oz, about 25 s), then bundling and compressing them" >&2
	node scripts/optimize-wasm.mjs $(WASM_OPT_LIST)
	./scripts/bundle-chunks.py target/site
	./scripts/compress-site.sh target/site

tools:
	@./scripts/ensure-tools.sh

test-tools:
	@./scripts/ensure-tools.sh --test

## test: every test: Rust unit and black-box tests, migrations (SQLite, and PostgreSQL when
## PATDESK_TEST_POSTGRES_URL is set), the OpenAPI document's validation, then the browser
## suite against the release binary.
test: test-tools build lint
	@mkdir -p target && : > $(TEST_LOG)
	$(MAKE) --no-print-directory test-rust 2>&1 | tee -a $(TEST_LOG)
	$(MAKE) --no-print-directory test-rust-postgres 2>&1 | tee -a $(TEST_LOG)
	$(MAKE) --no-print-directory test-openapi 2>&1 | tee -a $(TEST_LOG)
	$(MAKE) --no-print-directory test-fuzz 2>&1 | tee -a $(TEST_LOG)
	$(MAKE) --no-print-directory test-scanners 2>&1 | tee -a $(TEST_LOG)
	$(MAKE) --no-print-directory test-scim 2>&1 | tee -a $(TEST_LOG)
	$(MAKE) --no-print-directory test-e2e 2>&1 | tee -a $(TEST_LOG)
	@./scripts/summarize-tests.sh $(TEST_LOG)

# Per package, so that the app's `ssr` and `hydrate` features never meet.
test-rust:
	$(CARGO_TEST) -p common -p domain -p migrations -p server

# On PostgreSQL, when one is available (.ci/run provides it): the tests that need it (marked
# #[ignore], so that without PostgreSQL they are reported as ignored, never as passed), then the
# black-box suites once more, each test on a throw-away database.
test-rust-postgres:
	@if [ -n "$${PATDESK_TEST_POSTGRES_URL:-}" ]; then \
		$(CARGO_TEST) -p migrations -- --ignored && \
		$(CARGO_TEST) -p server --test faults --test scale_out --test notifications --test token_controls \
			--test usage_history --test rate_limits --test two_factor --test federation --test webhooks -- --ignored && \
		PATDESK_TEST_BACKEND=postgres $(CARGO_TEST) -p server \
			--test api --test usage --test hardening --test tokens --test accounts --test governance --test leaks \
			--test notifications --test forward_auth --test token_controls --test security --test sso --test scim \
			--test two_factor --test passkeys --test usage_history --test rate_limits --test passwords --test token_page \
			--test permissions --test federation --test webhooks; \
	elif [ -n "$${PATDESK_REQUIRE_POSTGRES:-}" ]; then \
		echo "PATDESK_REQUIRE_POSTGRES is set but PATDESK_TEST_POSTGRES_URL is not" >&2; exit 1; \
	else \
		echo "PATDESK_TEST_POSTGRES_URL is not set: the PostgreSQL tests were not run (reported as ignored above)"; \
	fi

# The API's OpenAPI document, checked by a real validator (openapi-spec-validator from PyPI,
# in a virtualenv under target/).
OPENAPI_VENV := target/openapi-venv
test-openapi:
	@test -x $(OPENAPI_VENV)/bin/openapi-spec-validator || \
		{ python3 -m venv $(OPENAPI_VENV) && $(OPENAPI_VENV)/bin/pip install -q openapi-spec-validator==0.9.0; }
	./target/release/patdesk openapi > target/openapi.json
	$(OPENAPI_VENV)/bin/openapi-spec-validator --schema 3.1 target/openapi.json

# The shipped secret-scanning rules under real scanners (secretlint from npm, detect-secrets
# from PyPI in a virtualenv under target/), end to end against a running server.
test-scanners:
	./scripts/scan-test.sh

# SCIM under a compliance checker written by others (scim2-tester from PyPI, in a virtualenv
# under target/), against a running server.
test-scim:
	./scripts/scim-test.sh

# Property-based fuzzing of the API from its OpenAPI document (schemathesis, fixed seed).
test-fuzz:
	./scripts/fuzz-api.sh

test-e2e:
	cd end2end && CI=$${CI:-} npx playwright test

## bench: the release server under wrk on SQLite and PostgreSQL; figures in bench/results.json
bench: build
	@./scripts/ensure-tools.sh --test
	@./scripts/ensure-tools.sh --bench
	./bench/run.sh

## lint: rustfmt and clippy, per package and target
lint:
	cargo fmt --all --check
	python3 scripts/test_import_cycles.py
	python3 scripts/import-cycles.py
	cargo clippy --locked -p common -p domain -p migrations -p server --all-targets -- -D warnings
	cargo clippy --locked -p app --features ssr -- -D warnings
	cargo clippy --locked -p frontend --target wasm32-unknown-unknown -- -D warnings

fmt:
	cargo fmt --all

clean:
	cargo clean
	rm -rf end2end/node_modules end2end/.tmp end2end/test-results
