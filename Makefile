# The meeting-room server: set-up, run, test.
#
#   make run    install everything, migrate, load the demo, serve on http://127.0.0.1:$PORT (5000)
#   make test   install what the tests need, lint, run the suite on SQLite and on PostgreSQL
#   make bench  every benchmark in bench/, baselines in the same run; rewrites bench/README.md (ARGS=--quick: < 2 min)
#
# Every step is idempotent: stamp files (.venv/.installed-*) and npm's own
# node_modules/.package-lock.json make a second run skip what is done.

SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
PYTEST_ARGS ?=
# Two workers, one file per worker at a time: files share expensive fixtures.
PYTEST := $(BIN)/pytest -n 2 --dist loadfile $(PYTEST_ARGS)

# Binaries the tests drive, and the Debian package providing each.
SYSTEM_BINARIES := pdftotext:poppler-utils pdfsig:poppler-utils chromium:chromium \
	softhsm2-util:softhsm2 nginx:nginx-light certutil:libnss3-tools \
	tesseract:tesseract-ocr gs:ghostscript
# Shared libraries loaded at run time (ctypes), and the Debian package providing each:
# libsodium's ristretto255 for the secret ballots (pysodium, meetings/voting/elgamal.py).
SYSTEM_LIBRARIES := libsodium.so.23:libsodium23
# Files without a binary to look for, and the Debian package providing each: LibreOffice's
# Writer, Calc and Impress for the Office uploads (meetings/documents/convert.py), and fonts
# with the metrics of Times New Roman, Arial, Calibri and Cambria so a Vietnamese Word file keeps its layout.
SYSTEM_FILES := /usr/bin/soffice:libreoffice-writer-nogui \
	/usr/lib/libreoffice/program/libswlo.so:libreoffice-writer-nogui \
	/usr/lib/libreoffice/program/libsclo.so:libreoffice-calc-nogui \
	/usr/lib/libreoffice/program/libslideshowlo.so:libreoffice-impress-nogui \
	/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf:fonts-liberation2 \
	/usr/share/fonts/truetype/liberation2/LiberationSans-Regular.ttf:fonts-liberation2 \
	/usr/share/fonts/truetype/crosextra/Carlito-Regular.ttf:fonts-crosextra-carlito \
	/usr/share/fonts/truetype/crosextra/Caladea-Regular.ttf:fonts-crosextra-caladea \
	/usr/share/tesseract-ocr/5/tessdata/vie.traineddata:tesseract-ocr-vie

.PHONY: all venv venv-dev node translations system-packages migrate demo run test test-sqlite test-postgresql lint bench clean

all: run

# --- set-up -----------------------------------------------------------------

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed-run: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

# The dev set includes the run set, so it satisfies both stamps.
$(VENV)/.installed-dev: requirements-dev.txt requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@ $(VENV)/.installed-run

venv: $(VENV)/.installed-run
venv-dev: $(VENV)/.installed-dev

# npm ci rewrites node_modules/.package-lock.json, so it is newer than the lock afterwards.
node_modules/.package-lock.json: package-lock.json
	npm ci --no-audit --no-fund
	touch $@

node: node_modules/.package-lock.json

# Catalogues are committed as .po; the .mo files Flask-Babel reads are built here.
MO_FILES := $(patsubst %.po,%.mo,$(wildcard meetings/translations/*/LC_MESSAGES/messages.po))
%.mo: %.po | $(VENV)/.installed-run
	$(BIN)/pybabel compile -i $< -o $@ >/dev/null
translations: $(MO_FILES)

# Debian packages for the tests (PDF checks, the browser, PKCS#11, nginx for the
# benchmarks). Installed only when a binary is missing and we are root (CI);
# otherwise we say what is missing and the tests needing it skip or fail clearly.
system-packages:
	@missing=""; for pair in $(SYSTEM_BINARIES); do \
		bin=$${pair%%:*}; pkg=$${pair##*:}; \
		command -v $$bin >/dev/null 2>&1 || [ -x /usr/sbin/$$bin ] || missing="$$missing $$pkg"; \
	done; \
	for pair in $(SYSTEM_LIBRARIES); do \
		lib=$${pair%%:*}; pkg=$${pair##*:}; \
		/sbin/ldconfig -p 2>/dev/null | grep -q "$$lib" || missing="$$missing $$pkg"; \
	done; \
	for pair in $(SYSTEM_FILES); do \
		file=$${pair%%:*}; pkg=$${pair##*:}; \
		[ -e "$$file" ] || missing="$$missing $$pkg"; \
	done; \
	missing=$$(echo $$missing | tr ' ' '\n' | sort -u | tr '\n' ' '); \
	if [ -z "$${missing// /}" ]; then echo "system packages: all present"; \
	elif [ "$$(id -u)" = 0 ]; then \
		echo "installing:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing </dev/null; \
	else echo "system packages missing:$$missing (not root: skipping; install them with apt-get)"; fi

# --- run --------------------------------------------------------------------

migrate: venv node translations system-packages
	$(FLASK) db upgrade

demo: migrate
	$(FLASK) demo load

# gunicorn replaces make's shell, so Ctrl-C and SIGTERM reach it directly.
run: demo
	exec $(BIN)/gunicorn -c gunicorn.conf.py wsgi:app

# --- test -------------------------------------------------------------------

# ruff for style; import-linter for the layers (pyproject.toml, docs/architecture.md).
lint: venv-dev
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache

# Both backends run even when the first fails, so one CI run shows everything.
# Browser tests drive Chromium and do not depend on the backend: SQLite only.
# pytest's exit code 5 ("no tests collected") fails the SQLite run; on PostgreSQL
# it is accepted, because it is intended there when PYTEST_ARGS picks only browser tests.
test: venv-dev node translations system-packages lint
	@status=0; \
	echo "== pytest on SQLite"; $(PYTEST) || status=1; \
	echo "== pytest on PostgreSQL"; TEST_DB=postgresql $(PYTEST) -m "not browser"; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "(no non-browser tests selected)"; elif [ $$rc -ne 0 ]; then status=1; fi; \
	exit $$status

test-sqlite: venv-dev node translations
	$(PYTEST)

test-postgresql: venv-dev node translations
	TEST_DB=postgresql $(PYTEST) -m "not browser"

bench: venv-dev node
	$(BIN)/python bench/run.py $(ARGS)

# Removes what set-up installed; instance/ (the database and files) is kept on purpose.
clean:
	rm -rf $(VENV) node_modules .pytest_cache .ruff_cache tests/artifacts
	find . -name __pycache__ -type d -prune -not -path './node_modules/*' -exec rm -rf {} +
