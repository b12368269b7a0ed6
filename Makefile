# make demo  : create .venv with the pinned CPU stack, then train + evaluate the demo on generated data
# make test  : the test suite (what CI runs)
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
DEMO   ?= configs/demo/source_only_toy_shift.py

.PHONY: install demo test clean
install: $(VENV)/.installed

$(VENV)/.installed: requirements/cpu.txt setup.py
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 9), "Python >= 3.9 needed"'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -r requirements/cpu.txt
	$(PY) -m pip install --no-deps --no-build-isolation -e .
	touch $@

demo: install
	$(PY) tools/train.py $(DEMO) --work-dir work_dirs/demo
	@for d in source target; do \
	  $(PY) tools/test.py $(DEMO) work_dirs/demo/iter_300.pth --work-dir work_dirs/demo/test_$$d \
	    --cfg-options test_dataloader.dataset.domain=$$d > work_dirs/demo/test_$$d.log 2>&1 || \
	    { tail -20 work_dirs/demo/test_$$d.log; exit 1; }; \
	done
	@echo "source-only model, toy_shift val mIoU:"; for d in source target; do \
	  printf '  %-6s %s\n' $$d "$$(grep -o 'mIoU: [0-9.]*' work_dirs/demo/test_$$d.log | tail -1)"; done

test: install
	$(PY) -m pytest -q tests

clean:
	rm -rf $(VENV) work_dirs data/toy_shift
