# KPM53-clone firmware: host simulation, tests and device builds.
PY      ?= python3
VENV    := .venv
VPY     := $(VENV)/bin/python
STAMP   := $(VENV)/.installed
VENV_SDM := .venv-sdm
STAMP_SDM := $(VENV_SDM)/.installed
BOARD   ?= pico
PORT    ?= /dev/ttyACM0
ARCH_pico  := armv6m
ARCH_esp32 := xtensawin
ARCH    := $(ARCH_$(BOARD))

.PHONY: setup setup-device run test lint build deploy docs clean firmware bench-device pictures

setup: $(STAMP) $(STAMP_SDM) setup-device

# The device side: the arm toolchain for the firmware image, Node.js for the RP2040 emulator. Installed with
# apt-get when this runs as root; otherwise the exact packages to install are printed and the step fails.
DEVICE_DEBS := gcc-arm-none-eabi libnewlib-arm-none-eabi cmake nodejs npm
setup-device:
	@missing=$$($(PY) -m tools.firmware --missing); \
	command -v node >/dev/null 2>&1 || missing="$$missing nodejs"; \
	command -v npm >/dev/null 2>&1 || missing="$$missing npm"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing $$missing"; (apt-get update -qq && apt-get install -y -qq $$missing) >/dev/null; \
	  else echo "missing Debian packages: $$missing (apt-get install -y $$missing)"; exit 1; fi; \
	fi
	@cd tools/emu && test -f node_modules/.kpm53-installed -a node_modules/.kpm53-installed -nt package-lock.json \
	  || (npm ci --no-audit --no-fund --loglevel=error && touch node_modules/.kpm53-installed)

$(STAMP): requirements.txt
	$(PY) -m venv $(VENV)
	$(VPY) -m pip install -q --upgrade pip
	$(VPY) -m pip install -q -r requirements.txt
	touch $(STAMP)

# sdm_modbus needs the pymodbus of its time (requirements-sdm.txt): a venv of its own for the interop test
$(STAMP_SDM): requirements-sdm.txt
	$(PY) -m venv $(VENV_SDM)
	$(VENV_SDM)/bin/python -m pip install -q -r requirements-sdm.txt
	touch $(STAMP_SDM)

# make run: the simulated meter in the terminal (MicroPython unix port; Modbus on ./ttyKPM53; STATE=DIR, LINK=PATH|none); make run
# TARGET=rp2040: its UF2 on the emulated RP2040 (state in state-rp2040/: the chip's flash storage region)
TARGET  ?= micropython
STATE   ?= $(if $(filter rp2040,$(TARGET)),state-rp2040,state)
LINK    ?= ttyKPM53
run: $(STAMP) $(if $(filter rp2040,$(TARGET)),setup-device)
	$(VPY) -m tools.sim --terminal --runtime $(TARGET) --state-dir $(STATE) --serial-link $(LINK)

test: $(STAMP) $(STAMP_SDM) setup-device lint
	$(VPY) -m pytest -q host_tests

# ruff over the whole repository (pyproject.toml: micropython-lib's rules, MicroPython's builtins); part of make test
lint: $(STAMP)
	$(VENV)/bin/ruff check .

# The flashable image: MicroPython v1.28.0 for the board with firmware/ frozen in (tools/firmware.py)
firmware: $(STAMP) setup-device
	$(VPY) -m tools.firmware --board $(BOARD)

# The meter inside the emulated RP2040: 10 simulated minutes, RAM, CPU, longest step, power-fail save
bench-device: $(STAMP) setup-device
	$(VPY) -m tools.bench_device

build: $(STAMP)
	@test -n "$(ARCH)" || (echo "unknown BOARD=$(BOARD) (pico|esp32)"; exit 2)
	$(VPY) -m tools.build --board $(BOARD) --arch $(ARCH) --out build/$(BOARD)

deploy: build
	$(VENV)/bin/mpremote connect $(PORT) fs cp -r build/$(BOARD)/. :

docs: $(STAMP)
	$(VPY) -m tools.regmap --update-readme

# docs/pictures/*.png: chosen pages of the glass drawn by the firmware under the MicroPython unix port
pictures: $(STAMP)
	$(VPY) -m tools.pictures --out docs/pictures

.PHONY: bench
bench: $(STAMP)
	$(VPY) -m tools.bench_modbus
	$(VENV)/bin/micropython tools/bench_metering.py
	$(VENV)/bin/micropython tools/bench_sf32.py

.PHONY: accuracy
accuracy: $(STAMP)
	$(VPY) -m tools.accuracy

.PHONY: accuracy-pq
accuracy-pq: $(STAMP)
	$(VPY) -m tools.accuracy_pq
accuracy: accuracy-pq accuracy-disturb  # power quality (THD, HR, unbalance), the disturbance table, then metrology

# The whole firmware under grid disturbances (docs/scenarios.md): a table of case, wiring, quantity, worst error,
# limit; fails while any row is beyond its limit. CASE=name: one case (python -m tools.accuracy_disturb --help)
.PHONY: accuracy-disturb
accuracy-disturb: $(STAMP)
	$(VPY) -m tools.accuracy_disturb $(if $(CASE),--case $(CASE))

.PHONY: fuzz
fuzz: $(STAMP)  # 1,000,000 frames under MicroPython (heap locked per request), then 20,000 hypothesis examples per test
	$(VENV)/bin/micropython -X heapsize=8M host_tests/fuzz_modbus.py 1000000 1
	FUZZ_EXAMPLES=20000 $(VPY) -m pytest -q host_tests/test_modbus_fuzz.py

.PHONY: soak faults
soak: $(STAMP)  # 100 SIGKILLs of the sim at random simulated times on one --state-dir (about 10 minutes)
	$(VPY) -m tools.soak --kills 100

faults: $(STAMP)  # power cut at every byte of every program/erase of a save, under MicroPython (CPython: make test)
	$(VENV)/bin/micropython -X heapsize=8M -c "import sys; sys.path[:0] = ['.', 'host_tests/cases']; \
	import case_store as c; [print('sweep', k, 'rotate' if r else 'append', 'align', a, c.sweep(k, r, 1, a)) \
	for a in (1, 256) for k in ('config', 'energy') for r in (False, True)]"

clean:
	rm -rf build .pytest_cache
