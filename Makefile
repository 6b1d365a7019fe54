# The two commands of README.md. Each makes its own virtualenv in .venv on first use.
PYTHON ?= python3
VENV := .venv

.PHONY: run test bench

run: $(VENV)/.installed
	$(VENV)/bin/pserve development.ini

test: $(VENV)/.installed-testing
	$(VENV)/bin/python -m pytest

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(VENV)/bin/python setup.py
	$(VENV)/bin/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-testing: $(VENV)/bin/python setup.py
	$(VENV)/bin/python -m pip install --quiet -e '.[testing]'
	touch $@ $(VENV)/.installed
