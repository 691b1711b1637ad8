# mcuq: the two commands a new user runs (see README.md).
#   make demo   export the bundled GRU example (mixed FP16-INT8, 8 cores), verify it
#               bit-exact on host and QEMU, count instructions per core, report
#   make test   the test suite
# Both install what they need: the RV32 toolchain through apt-get, the Python
# packages in a virtualenv (.venv). Both are safe to run again.

PYTHON  ?= python3
VENV    ?= .venv
BIN     := $(VENV)/bin
DEB_PKGS := gcc-riscv64-unknown-elf picolibc-riscv64-unknown-elf qemu-system-misc clang-16 espeak-ng cmake \
	clang-19 lld-19 verilator ccache
DEMO_OUT ?= demo-out

.PHONY: demo test toolchain venv rtl clean

venv: $(VENV)/.installed
$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

# apt-get only for what is missing; a non-root user is told the exact command.
toolchain:
	@missing=""; \
	for p in $(DEB_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" != 0 ]; then \
	    echo "mcuq needs Debian packages:$$missing"; \
	    echo "run: sudo apt-get update && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends$$missing"; \
	    exit 1; \
	  fi; \
	  echo "installing:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

# the CV32E40P core's RTL as a Verilator model (--target rtl), built once into ~/.cache/mcuq
rtl: toolchain venv
	$(BIN)/python -m mcuq.rtl

demo: toolchain venv
	rm -rf $(DEMO_OUT)
	$(BIN)/mcuq export examples/models/gru_small.pt --calib examples/data/calib_small.npy \
		--test examples/data/test_small.npy --precision mixed --cores 8 -o $(DEMO_OUT)
	$(BIN)/mcuq verify $(DEMO_OUT) --target host
	$(BIN)/mcuq verify $(DEMO_OUT) --target qemu
	$(BIN)/mcuq bench $(DEMO_OUT) --cores 1,8
	$(BIN)/mcuq report $(DEMO_OUT)

# on every core (pytest-xdist); the longest tests start first (tests/conftest.py)
test: toolchain venv rtl
	$(BIN)/python -m pytest -q -n auto tests

clean:
	rm -rf $(VENV) $(DEMO_OUT) build *.egg-info
