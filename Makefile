# Orchestra — the two commands the README opens with:
#   make demo   run the whole product end to end on the embedded PostgreSQL
#   make test   lint, type-check and run the whole test suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test test-random lint typecheck pytest bench constraints swagger-ui screenshot-ui clean

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Orchestra needs Python 3.11 or newer")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/orchestra demo

test: lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

# Two pytest-xdist workers, each with its own embedded PostgreSQL: the suite takes both cores of
# the CI machine. `make pytest PYTEST_WORKERS=0` runs it in this one process.
PYTEST_WORKERS ?= 2

pytest: $(STAMP)
	$(BIN)/pytest -q -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

# The property tests draw the same examples on every run (tests/conftest.py), so that a red `make
# test` is about the change; this runs them alone on fresh random examples, to look for new bugs.
# A failing one is kept in .hypothesis/ (ignored by git) and tried first on the next run.
test-random: $(STAMP)
	$(BIN)/pytest -q -n $(PYTEST_WORKERS) -m hypothesis --hypothesis-profile=random $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python -m bench

# The live suite run page in the README: the example run by a worker on a throwaway PostgreSQL
# while Debian's Chromium watches the page; the PNG is committed, run this after changing the page.
screenshot-ui: $(STAMP)
	$(BIN)/python -m tests.support.live_example docs/images/live-suite-run.png

constraints: $(STAMP)
	(echo "# Every transitive dependency, pinned. Regenerate with: make constraints"; \
	 $(BIN)/python -m pip freeze --exclude-editable) > constraints.txt

# Swagger UI for the API's /docs, served from the package so the page works offline: the
# pinned npm package, checked against its registry integrity, reduced to the files /docs loads.
# The copied files are committed; run this only to move to another version.
SWAGGER_UI_VERSION   := 5.35.0
SWAGGER_UI_INTEGRITY := sha512-U06rpMtW9V3XPGOBeamTUSr0Z09jMX4IJuANpE/EZbAhw0G8CgwrzU4YmXkn/h0wCDNsXdGarTNNHC3sU8yVUQ==
SWAGGER_UI_DIR       := src/orchestra/api/static/swagger-ui
SWAGGER_UI_FILES     := swagger-ui-bundle.js swagger-ui.css favicon-32x32.png LICENSE NOTICE

swagger-ui:
	rm -rf .swagger-ui && mkdir .swagger-ui
	cd .swagger-ui && npm pack --silent swagger-ui-dist@$(SWAGGER_UI_VERSION) > /dev/null
	$(PYTHON) -c 'import base64, hashlib, sys; data = open(sys.argv[1], "rb").read(); \
	  found = "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode(); \
	  sys.exit(0 if found == sys.argv[2] else "swagger-ui-dist: integrity " + found)' \
	  .swagger-ui/swagger-ui-dist-$(SWAGGER_UI_VERSION).tgz $(SWAGGER_UI_INTEGRITY)
	tar -xzf .swagger-ui/swagger-ui-dist-$(SWAGGER_UI_VERSION).tgz -C .swagger-ui
	rm -rf $(SWAGGER_UI_DIR) && mkdir -p $(SWAGGER_UI_DIR)
	for f in $(SWAGGER_UI_FILES); do cp .swagger-ui/package/$$f $(SWAGGER_UI_DIR)/; done
	# no source map is shipped: a browser's developer tools would ask for it in vain
	sed -i '/^\/[\/*]# sourceMappingURL=/d' $(SWAGGER_UI_DIR)/swagger-ui-bundle.js $(SWAGGER_UI_DIR)/swagger-ui.css
	echo $(SWAGGER_UI_VERSION) > $(SWAGGER_UI_DIR)/VERSION
	rm -rf .swagger-ui

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
