# Front door. Every target creates .venv from the lock files first.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export DJANGO_SETTINGS_MODULE ?= workflow_app.settings.dev

.PHONY: run test lint typecheck checks messages bench bench-http bench-oversight bench-scale bench-data migrate seed clean venv

$(STAMP): requirements/base.txt requirements/dev.txt
	@command -v $(PY) >/dev/null 2>&1 || PY=python3; test -x $(BIN)/python || $${PY:-python3} -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements/base.txt -r requirements/dev.txt
	touch $(STAMP)

venv: $(STAMP)

## make run: embedded mode (SQLite, filesystem broker, web + worker + beat), demo data, :8000
run: $(STAMP)
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py compilemessages -v0 --ignore=.venv
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py run_embedded

## make test: quality gates, then the whole suite (SQLite unless DATABASE_URL says otherwise)
test: $(STAMP) checks
	DJANGO_SETTINGS_MODULE=workflow_app.settings.test $(BIN)/pytest $(PYTEST_ARGS)

checks: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	DJANGO_SETTINGS_MODULE=workflow_app.settings.test $(BIN)/python manage.py makemigrations --check --dry-run
	DJANGO_SETTINGS_MODULE=workflow_app.settings.test $(BIN)/python manage.py compilemessages -v0 --ignore=.venv
	DJANGO_SETTINGS_MODULE=workflow_app.settings.test $(BIN)/mypy workflow_app notifications objections processes repair commitments sync creditlists documents oversight
	DATABASE_URL=sqlite:///:memory: DJANGO_SETTINGS_MODULE=workflow_app.settings.prod SECRET_KEY=deploy-check-$$$$-not-a-real-key-0123456789abcdefghijklmnopqrstuvwxyz ALLOWED_HOSTS=credit.example.gov.cn $(BIN)/python manage.py check --deploy --fail-level WARNING

lint: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

messages: $(STAMP)
	$(BIN)/python manage.py makemessages -l en --ignore=.venv --ignore=bench --ignore=tests
	$(BIN)/python manage.py compilemessages -v0 --ignore=.venv

## make bench: generate 1M records / 200k objections / 20k open tasks in PostgreSQL and measure
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/credit_bench
bench: $(STAMP)
	DATABASE_URL=$(BENCH_DATABASE_URL) DJANGO_SETTINGS_MODULE=workflow_app.settings.bench $(BIN)/python bench/run.py $(BENCH_ARGS)
	DATABASE_URL=$(BENCH_DATABASE_URL) DJANGO_SETTINGS_MODULE=workflow_app.settings.bench $(BIN)/python bench/over_http.py $(BENCH_HTTP_ARGS)
	DATABASE_URL=$(BENCH_DATABASE_URL) DJANGO_SETTINGS_MODULE=workflow_app.settings.bench $(BIN)/python bench/oversight.py $(BENCH_OVERSIGHT_ARGS)
	DATABASE_URL=$(BENCH_DATABASE_URL) DJANGO_SETTINGS_MODULE=workflow_app.settings.bench $(BIN)/python bench/scale.py $(BENCH_SCALE_ARGS)

## make bench-oversight: dashboard page/API over HTTP with 1M deadline rows, 200k-row CSV export memory
bench-oversight: $(STAMP)
	DATABASE_URL=$(BENCH_DATABASE_URL) DJANGO_SETTINGS_MODULE=workflow_app.settings.bench $(BIN)/python bench/oversight.py $(BENCH_OVERSIGHT_ARGS)

## make bench-scale: verify_audit over 1M entries, run_sweeps over 1M open deadlines
bench-scale: $(STAMP)
	DATABASE_URL=$(BENCH_DATABASE_URL) DJANGO_SETTINGS_MODULE=workflow_app.settings.bench $(BIN)/python bench/scale.py $(BENCH_SCALE_ARGS)

## make bench-http: only the HTTP figures (gunicorn, 1/4/16 clients, pgbench beside), on the data already generated
bench-http: $(STAMP)
	DATABASE_URL=$(BENCH_DATABASE_URL) DJANGO_SETTINGS_MODULE=workflow_app.settings.bench $(BIN)/python bench/over_http.py $(BENCH_HTTP_ARGS)

clean:
	rm -rf var artefacts .pytest_cache
