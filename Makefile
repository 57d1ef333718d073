# The README's two commands: `make demo` and `make test`. Both create .venv when missing.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.fixmap-installed

.PHONY: demo test lint format bench system-deps clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[dev]"
	@# compile bytecode now: an uncompiled textual costs ~1 s at first start
	$(PY) -m compileall -q $(VENV)/lib console screens >/dev/null || true
	@# the router index of the bundled playbooks, so the first console starts warm
	$(PY) -c "from console.routing.cache import warm; warm()" || true
	@touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/fixmap demo

# what the tests need from the system: tmux (terminal tests), prometheus (history ingest)
system-deps:
	@missing=""; \
	command -v tmux >/dev/null || missing="$$missing tmux"; \
	command -v prometheus >/dev/null || test -x /usr/bin/prometheus || missing="$$missing prometheus"; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# two workers: the suite mostly waits on loopback servers and subprocesses; one file per worker
# (module fixtures such as a shared demo stay in one process)
test: $(STAMP) system-deps lint
	$(PY) -m pytest -q -p no:cacheprovider -n 2 --dist loadfile

bench: $(STAMP)
	$(PY) bench/startup.py

clean:
	rm -rf $(VENV) .pytest_cache
