# RHIP — the two commands: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo setup test bench bench-synth bench-registry bench-fhir bench-programs bench-mpi clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

# Install, migrate the embedded SQLite database under ./data, generate the demo county (reused when it
# exists), create the administrator (one-time password printed) and serve http://127.0.0.1:8000
demo: $(STAMP)
	$(VENV)/bin/rhip demo $(DEMO_ARGS)

# Install what the tests need (PostgreSQL from Debian when absent), start a throw-away PostgreSQL on a
# loopback port and run the whole suite on SQLite and PostgreSQL.
test: $(STAMP)
	bash scripts/test.sh $(PYTEST_ARGS)

bench: bench-synth bench-registry bench-fhir bench-programs bench-mpi

bench-synth: $(STAMP)
	bash scripts/with-pg.sh $(PY) benchmarks/synth/run.py $(BENCH_ARGS)

bench-registry: $(STAMP)
	bash scripts/with-pg.sh $(PY) benchmarks/registry/run.py $(BENCH_ARGS)

bench-fhir: $(STAMP)
	bash scripts/with-pg.sh $(PY) benchmarks/fhir/run.py $(BENCH_ARGS)

bench-programs: $(STAMP)
	bash scripts/with-pg.sh $(PY) benchmarks/programs/run.py $(BENCH_ARGS)

# FEBRL 1–4 and a generated Chinese file of 300,000 records (DuckDB), plus Spark local mode on a cut
bench-mpi: $(STAMP)
	$(PY) benchmarks/mpi/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) build *.egg-info
