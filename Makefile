# Everything installs itself into .venv/ at the repository root:
#   .venv/            the project (editable) with its dev and local-runtime extras
#   .venv/tools/sam/  aws-sam-cli and the AWS CLI, kept apart because they pin an older boto3
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Python 3.12 = the Lambda runtime: the first candidate that really runs as 3.12 (a pyenv shim
# on PATH exists even when 3.12 is not the active pyenv version, and then fails).
PYTHON312 ?= $(shell for p in $$(ls -d $$HOME/.pyenv/versions/3.12*/bin/python3.12 2>/dev/null | sort -rV) $$(command -v python3.12 2>/dev/null); do "$$p" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 12))' 2>/dev/null && { echo "$$p"; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SAM_VENV := $(VENV)/tools/sam
SAM := $(SAM_VENV)/bin/sam
SAM_STAMP := $(SAM_VENV)/.installed
PIP_FLAGS := --quiet --disable-pip-version-check
export SAM_CLI_TELEMETRY := 0
export AWS_REGION ?= us-east-1
export AWS_DEFAULT_REGION ?= us-east-1

.PHONY: help install demo test lint bench build deploy tools clean data

help:
	@echo "make demo    offline demo of every flow (installs into .venv/ first)"
	@echo "make test    the test suite"
	@echo "make lint    ruff, mypy --strict, cfn-lint, sam validate --lint"
	@echo "make bench   benchmarks (validator, cold starts, costs, 300-upload burst, 1,000 variables to 3 environments)"
	@echo "make build   sam build (needs python3.12 on PATH, provided from .venv)"

$(STAMP): pyproject.toml layers/common/requirements.txt
	@test -n "$(PYTHON312)" || { echo "Python 3.12 not found (PATH or ~/.pyenv/versions/3.12*)"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON312) -m venv $(VENV)
	$(BIN)/python -m pip install $(PIP_FLAGS) --upgrade pip
	$(BIN)/python -m pip install $(PIP_FLAGS) -e ".[dev]"
	@touch $@

install: $(STAMP)

$(SAM_STAMP):
	@test -n "$(PYTHON312)" || { echo "Python 3.12 not found (PATH or ~/.pyenv/versions/3.12*)"; exit 1; }
	@test -x $(SAM_VENV)/bin/python || $(PYTHON312) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python -m pip install $(PIP_FLAGS) aws-sam-cli==1.170.0 awscli==1.46.3
	@touch $@

tools: $(SAM_STAMP)

demo: $(STAMP)
	$(BIN)/mwaa-cp local demo

test: $(STAMP)
	$(BIN)/pytest -n 2 --dist worksteal -q

lint: $(STAMP) $(SAM_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy --strict layers/common/mwaa_control_plane cli/mwaa_cp_cli local/mwaa_cp_local functions
	$(BIN)/cfn-lint template.yaml examples/environment/template.yaml
	$(SAM) validate --lint --region $(AWS_REGION)

bench: $(STAMP)
	@status=0; \
	$(BIN)/python bench/bench_validate.py $(BENCH_ARGS) || status=1; echo; \
	$(BIN)/python bench/bench_coldstart.py $(COLDSTART_ARGS) || status=1; echo; \
	$(BIN)/python bench/bench_cost.py || status=1; echo; \
	$(BIN)/python bench/bench_control_plane_cost.py $(CONTROL_PLANE_COST_ARGS) || status=1; echo; \
	$(BIN)/python bench/bench_variables.py $(VARIABLES_ARGS) || status=1; echo; \
	$(BIN)/python bench/bench_burst.py $(BURST_ARGS) || status=1; \
	exit $$status

build: $(SAM_STAMP)
	PATH="$(dir $(PYTHON312)):$$PATH" $(SAM) build --region $(AWS_REGION)

deploy: build
	$(SAM) deploy --guided

# The validator's generated facts (provider modules, distributions) from the saved MWAA constraints
# files and PyPI wheels; run by hand when MWAA adds an Airflow version, never at Lambda runtime.
data: $(STAMP)
	$(BIN)/python scripts/generate_validator_data.py $(DATA_ARGS)

clean:
	rm -rf .aws-sam .pytest_cache .mypy_cache .ruff_cache .hypothesis
