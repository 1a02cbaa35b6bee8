# Fashion-MNIST Lab. `make run` and `make test` do all the set-up they need.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PYTHON := $(BIN)/python
CORE := $(PYTHON) -m fmnist_core
DEBIAN_DATA := /usr/share/datasets/fashion-mnist
PORT ?= 8501

.PHONY: run share test test-fast lint setup lock data browser reference studies bench clean

run: setup data
	$(BIN)/streamlit run app.py --server.port $(PORT) --server.address 127.0.0.1

# On the network: every interface, behind the password in .streamlit/secrets.toml (password = "...").
share: setup data
	@grep -qs '^password *= *"..*"' .streamlit/secrets.toml || \
		{ echo 'make share needs password = "..." in .streamlit/secrets.toml (it is git-ignored)'; exit 2; }
	$(BIN)/streamlit run app.py --server.port $(PORT) --server.address 0.0.0.0

test: setup data browser lint
	$(PYTHON) -m pytest -q -n auto --durations=15

# The quick loop while editing: everything but the tests that train for long or drive a browser.
test-fast: setup data lint
	$(PYTHON) -m pytest -q -n auto -m "not slow and not browser" --durations=10

# ruff and mypy read their settings from pyproject.toml ([tool.ruff], [tool.mypy]).
lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# The project (pyproject.toml: fmnist_core, app_support) as an editable install, with its test and lint
# tools (the `dev` extra), at the versions pinned in constraints.txt; again whenever either file changes.
setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml constraints.txt
	test -x $(PYTHON) || $(PY) -m venv $(VENV)
	$(PYTHON) -m pip install -q -c constraints.txt --upgrade pip
	$(PYTHON) -m pip install -q -c constraints.txt -e '.[dev]'
	touch $@

# Pin anew: a throw-away venv gets the newest releases that pyproject.toml (and this machine's pip) allow,
# and constraints.txt records them; the next `make setup` installs them into .venv.
LOCK_VENV := .venv-lock
lock:
	rm -rf $(LOCK_VENV)
	$(PY) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/python -m pip install -q --upgrade pip
	$(LOCK_VENV)/bin/python -m pip install -q -e '.[dev]'
	{ sed -n '/^#/p' constraints.txt; \
	  $(LOCK_VENV)/bin/python -m pip freeze --all --exclude-editable --exclude fashion-mnist-lab; } > constraints.txt.new
	mv constraints.txt.new constraints.txt
	rm -rf $(LOCK_VENV)

# The data: ./data, $FMNIST_DATA_DIR or Debian's package; install the package where apt exists,
# else let torchvision download it into ./data.
data: setup
	@if $(PYTHON) -c "import sys; from fmnist_core.data import find_data; find_data(download=False)" 2>/dev/null; then \
		echo "Fashion-MNIST: found"; \
	elif command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
		echo "Fashion-MNIST: installing Debian's dataset-fashion-mnist"; \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q dataset-fashion-mnist; \
	else \
		echo "Fashion-MNIST: downloading with torchvision into ./data"; \
		$(CORE) data >/dev/null; \
	fi
	@$(PYTHON) -c "from fmnist_core.data import find_data; print('Fashion-MNIST at', find_data()['train_images'].parent)"

# Debian's Chromium for the browser tests (Playwright cannot download its own browser here).
browser:
	@if [ -x /usr/bin/chromium ]; then echo "chromium: found"; \
	elif command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; \
	else echo "chromium: not found; install Debian's chromium package for the browser tests"; fi

# The shipped reference runs in saved_models/ (full dataset; about 40 minutes on one CPU thread).
reference: setup data
	bash scripts/reference.sh

# Every study of the reports, trained where its runs are missing. The reference runs first: the studies
# reuse them as their seed-0 runs, so a rebuild from nothing gives the shipped runs and names. From
# nothing: about 15 CPU-hours on a fast 2-core CPU (two workers of one torch thread each).
studies: reference
	$(CORE) study --all

bench: setup data
	$(CORE) bench

clean:
	rm -rf .pytest_cache .mypy_cache test-artifacts
	find . -name __pycache__ -prune -exec rm -rf {} +
