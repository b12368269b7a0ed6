# make demo  : create .venv with the pinned CPU stack, then source-only vs DACS on generated data
# make test  : the test suite (what CI runs)
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python

.PHONY: install demo test clean
install: $(VENV)/.installed

$(VENV)/.installed: requirements/cpu.txt setup.py
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 9), "Python >= 3.9 needed"'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -r requirements/cpu.txt
	$(PY) -m pip install --no-deps --no-build-isolation -e .
	touch $@

demo: install
	$(PY) tools/run_demo.py --work-dir work_dirs/demo

test: install
	$(PY) -m pytest -q -n 2 tests

clean:
	rm -rf $(VENV) work_dirs data/toy_shift
