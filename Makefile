# KPM53-clone firmware: host simulation, tests and device builds.
PY      ?= python3
VENV    := .venv
VPY     := $(VENV)/bin/python
STAMP   := $(VENV)/.installed
BOARD   ?= pico
PORT    ?= /dev/ttyACM0
ARCH_pico  := armv6m
ARCH_esp32 := xtensawin
ARCH    := $(ARCH_$(BOARD))

.PHONY: setup run test build deploy docs clean

setup: $(STAMP)

$(STAMP): requirements.txt
	$(PY) -m venv $(VENV)
	$(VPY) -m pip install -q --upgrade pip
	$(VPY) -m pip install -q -r requirements.txt
	touch $(STAMP)

run: $(STAMP)
	$(VPY) -m tools.sim --terminal --state-dir state

test: $(STAMP)
	$(VPY) -m pytest -q host_tests

build: $(STAMP)
	@test -n "$(ARCH)" || (echo "unknown BOARD=$(BOARD) (pico|esp32)"; exit 2)
	$(VPY) -m tools.build --board $(BOARD) --arch $(ARCH) --out build/$(BOARD)

deploy: build
	$(VENV)/bin/mpremote connect $(PORT) fs cp -r build/$(BOARD)/. :

docs: $(STAMP)
	$(VPY) -m tools.regmap --update-readme

clean:
	rm -rf build .pytest_cache
