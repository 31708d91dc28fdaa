# The two commands (README): `make run` and `make test`. Both set up .venv from the lockfiles.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
COMPILED := build/compiled

.PHONY: run test test-cluster compiled run-compiled test-compiled test-compiled-ads lint typecheck deploy-lint bench \
        check-menus lock clean

$(BIN)/jumbe: pyproject.toml requirements/main.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -r requirements/main.lock
	$(BIN)/python -m pip install -q --disable-pip-version-check --no-deps -e .
	touch $@

$(VENV)/.dev: $(BIN)/jumbe requirements/dev.lock
	$(BIN)/python -m pip install -q --disable-pip-version-check -r requirements/dev.lock
	touch $@

run: $(BIN)/jumbe            ## set up, then serve menus/ on :8000 with the embedded Redis
	$(BIN)/jumbe serve

test: $(VENV)/.dev           ## set up, then run the whole test suite
	$(BIN)/pytest

test-cluster: $(VENV)/.dev   ## the same suite on a three-master Redis Cluster it starts itself
	JUMBE_TEST_CLUSTER=1 $(BIN)/pytest

compiled: $(VENV)/.dev       ## the hop path compiled with mypyc, into build/compiled (what the image ships)
	rm -rf $(COMPILED) && mkdir -p $(COMPILED)
	cp -r gateway setup.py pyproject.toml README.md $(COMPILED)/
	find $(COMPILED) -name '*.so' -delete
	cd $(COMPILED) && JUMBE_COMPILE=1 $(CURDIR)/$(BIN)/python setup.py -q build_ext --inplace --parallel 2

run-compiled: compiled      ## serve menus/ on :8000 from the compiled build
	PYTHONPATH=$(COMPILED) $(BIN)/jumbe serve

test-compiled: compiled     ## the test suite against the compiled build
	JUMBE_EXPECT_COMPILED=1 PYTHONPATH=$(COMPILED) $(BIN)/pytest

test-compiled-ads: $(VENV)/.dev  ## the balance check's tests, compiled build, one Redis (after make compiled)
	JUMBE_EXPECT_COMPILED=1 PYTHONPATH=$(COMPILED) $(BIN)/pytest tests/ads tests/test_resp.py \
		tests/test_pipelined_writes.py \
		tests/test_compiled_build.py

lint: $(VENV)/.dev
	$(BIN)/ruff check gateway tests bench setup.py
	$(BIN)/ruff format --check gateway tests bench setup.py

typecheck: $(VENV)/.dev
	$(BIN)/mypy

deploy-lint: $(VENV)/.dev     ## the Dockerfile and deploy/ (offline linters: no Docker engine needed)
	$(BIN)/hadolint Dockerfile
	$(BIN)/yamllint deploy
	$(BIN)/kubernetes-validate --strict --quiet $(filter-out %/kustomization.yaml,$(wildcard deploy/kubernetes/*.yaml))

check-menus: $(BIN)/jumbe
	$(BIN)/jumbe check menus

bench: $(BIN)/jumbe          ## load test a running gateway (see README)
	$(BIN)/python bench/ussd_load.py

lock:                        ## re-resolve the lockfiles after changing pyproject.toml
	$(BIN)/uv pip compile pyproject.toml -q --python-version 3.11 -o requirements/main.lock
	$(BIN)/uv pip compile pyproject.toml -q --group dev --python-version 3.11 -o requirements/dev.lock

clean:
	rm -rf $(VENV) var build .pytest_cache .mypy_cache .ruff_cache
