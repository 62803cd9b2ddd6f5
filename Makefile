# Developer entry points. `make demo` and `make test` work on a fresh machine with python3 and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_STAMP := $(VENV)/.demo-installed
COLLECTIONS := $(CURDIR)/$(VENV)/collections
SANITY_ROOT := build/sanity/ansible_collections/digitro/pabx
export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: demo test unit emulator-tests integration lint sanity compat emulator clean

# Everything: the tests, ansible-lint, ansible-test, ansible-builder, ansible-runner (requirements-dev.txt).
$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements-dev.txt
	mkdir -p $(COLLECTIONS)/ansible_collections/digitro
	ln -sfn $(CURDIR) $(COLLECTIONS)/ansible_collections/digitro/pabx
	touch $@ $(DEMO_STAMP)

# What the demo and the emulator need, and no more: the collection's runtime requirements (requests) and
# ansible-core, at the version requirements-dev.txt pins.
$(DEMO_STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements.txt "$$(grep -E '^ansible-core[^a-z_-]' requirements-dev.txt)"
	mkdir -p $(COLLECTIONS)/ansible_collections/digitro
	ln -sfn $(CURDIR) $(COLLECTIONS)/ansible_collections/digitro/pabx
	touch $@

demo: $(DEMO_STAMP)  ## rotate passwords on a bundled emulator
	$(BIN)/python scripts/demo.py

test: $(STAMP)  ## every test: pytest suites, ansible-lint, ansible-test sanity, the ansible-core 2.16-2.20 smoke
	$(BIN)/python -m pytest -n 2 --dist loadfile --durations=15 tests
	$(MAKE) --no-print-directory lint sanity compat

unit: $(STAMP)
	$(BIN)/python -m pytest tests/unit tests/emulator

integration: $(STAMP)
	$(BIN)/python -m pytest tests/integration

lint: $(STAMP)
	$(BIN)/ansible-lint --offline --profile production

sanity: $(STAMP)
	$(BIN)/python scripts/prepare_ansible_test.py
	rm -rf build/sanity && mkdir -p $(SANITY_ROOT)
	git ls-files -co --exclude-standard -z | tar --null -T - -cf - | tar -xf - -C $(SANITY_ROOT)
	# A repository of its own: ansible-test lists files with git, and build/ is ignored by ours.
	cd $(SANITY_ROOT) && git init -q && git add -A && $(CURDIR)/$(BIN)/ansible-test sanity --venv --python 3.11 --color no

# The collection on ansible-core 2.16 to 2.20, and ansible-test sanity with 2.16 and 2.20 (scripts/compat_smoke.py;
# COMPAT_SANITY=0 leaves sanity out).
compat: $(STAMP)
	$(BIN)/python scripts/compat_smoke.py

emulator: $(DEMO_STAMP)  ## a seeded emulator on http://127.0.0.1:8080 (api key: emulator-key), Ctrl-C to stop
	$(BIN)/python -m emulator seed --devices 50 --accounts 10 --dac-devices 10 --random-seed 1 --out build/site.json --csv build/site.csv
	$(BIN)/python -m emulator serve --seed build/site.json --reset --log-file build/emulator.log

clean:
	rm -rf build $(VENV) .pytest_cache
