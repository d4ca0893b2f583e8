# e-Cabinet: `make run` serves the app with demo data; `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 5000
# Test files run in parallel, one worker per core (each with its own databases, Redis database and folder).
TEST_WORKERS ?= $(shell nproc 2>/dev/null || echo 2)
# Lucide icons copied into static/vendor/icons.svg by `make vendor`; templates/_icons.html draws them.
ICONS := house calendar-days search list-checks archive vote users scroll-text circle-user-round log-out \
  languages menu x play presentation download upload signature plus calendar-plus book-open pencil send \
  lock lock-keyhole circle-check circle-alert triangle-alert info bell file-text clock pause check-check \
  mail-check copy a-large-small arrow-left chevron-right shield-check key-round landmark map-pin radio \
  hourglass inbox users-round trash-2 check minus ellipsis log-in user-x

.PHONY: setup run test lint audit bench bench-media-load clean vendor translations

setup: $(VENV)/.installed node_modules/.installed vendor translations

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip setuptools
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Browser libraries are copied from npm packages into static/vendor: no CDN on closed networks.
vendor: node_modules/.installed
	@mkdir -p static/vendor
	cp node_modules/socket.io-client/dist/socket.io.min.js static/vendor/
	# pdf.js (legacy build: older tablets); copied as .js so the server gives it a JavaScript type.
	cp node_modules/pdfjs-dist/legacy/build/pdf.min.mjs static/vendor/pdf.min.js
	cp node_modules/pdfjs-dist/legacy/build/pdf.worker.min.mjs static/vendor/pdf.worker.min.js
	# pdf.js's viewer components (find, link service, lazy page views) and their stylesheet and icons.
	cp node_modules/pdfjs-dist/legacy/web/pdf_viewer.mjs static/vendor/pdf_viewer.js
	cp node_modules/pdfjs-dist/legacy/web/pdf_viewer.css static/vendor/pdf_viewer.css
	cp -R node_modules/pdfjs-dist/legacy/web/images static/vendor/
	# Offline packs: Workbox's service-worker modules (loaded from here, not from its CDN) and idb for IndexedDB.
	@mkdir -p static/vendor/workbox
	cp node_modules/workbox-sw/build/workbox-sw.js node_modules/workbox-core/build/workbox-core.prod.js \
	  node_modules/workbox-routing/build/workbox-routing.prod.js \
	  node_modules/workbox-strategies/build/workbox-strategies.prod.js static/vendor/workbox/
	cp node_modules/idb/build/index.js static/vendor/idb.js
	# The icons the templates use (templates/_icons.html), as one sprite built from lucide-static's SVGs.
	node tools/icon-sprite.mjs static/vendor/icons.svg $(ICONS)
	# Janus's browser library (ES module) and the WebRTC adapter it expects as a global.
	cp node_modules/janus-gateway/dist/janus.es.js static/vendor/janus.es.js
	cp node_modules/webrtc-adapter/out/adapter.js static/vendor/webrtc-adapter.js

# Each domain keeps its Vietnamese strings in ecabinet/<domain>/translations; the shell's are in ecabinet/translations.
translations: $(VENV)/.installed
	@for d in ecabinet/translations ecabinet/*/translations; do \
	  if [ -d "$$d" ]; then $(VENV)/bin/pybabel compile -d "$$d" >/dev/null || exit 1; fi; done

# Plain HTTP on loopback, so the session cookie cannot be Secure here; production keeps the default.
# With Janus installed (apt-get install janus), `serve` also starts it on loopback for remote attendance.
JANUS_ENV := $(if $(wildcard /usr/bin/janus),JANUS_START=1 JANUS_URL=http://127.0.0.1:8088/janus,)
run: setup
	SESSION_COOKIE_SECURE=0 $(PY) -m ecabinet db upgrade
	SESSION_COOKIE_SECURE=0 $(PY) -m ecabinet ecabinet demo
	SESSION_COOKIE_SECURE=0 $(JANUS_ENV) $(PY) -m ecabinet ecabinet serve --host $(HOST) --port $(PORT)

test: setup
	$(PY) -m ruff check .
	$(VENV)/bin/lint-imports --no-logo pyproject.toml .ci/importlinter-external.toml
	node --test tests/js/*.test.mjs
	$(PY) .ci/audit.py
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

lint: setup
	$(PY) -m ruff check .

# Known vulnerabilities in the pinned and installed Python packages (pip-audit, PyPI's data); see .ci/audit.py.
audit: setup
	$(PY) .ci/audit.py

bench: setup
	$(PY) bench/run.py

# Janus's capacity with light WebRTC clients (aiortc); they need a virtualenv of their own (see its
# requirements.txt for why), made here on first use.
MEDIA_LOAD_VENV := bench/media_load/.venv
$(MEDIA_LOAD_VENV)/.installed: bench/media_load/requirements.txt
	$(PYTHON) -m venv $(MEDIA_LOAD_VENV)
	$(MEDIA_LOAD_VENV)/bin/pip install -q -r bench/media_load/requirements.txt
	touch $@

bench-media-load: setup $(MEDIA_LOAD_VENV)/.installed
	$(PY) bench/bench_media_load.py $(ARGS)

clean:
	rm -rf $(VENV) $(MEDIA_LOAD_VENV) node_modules static/vendor/*.js instance .pytest_cache
