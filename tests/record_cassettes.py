"""Re-record the HTTP cassettes against a real OpenAI-compatible server.

Starts llama-cpp-python's OpenAI-compatible server with the bundled SmolLM2 model on
loopback, runs the cassette tests with ``--record-mode=rewrite``, stops the server.
Used by ``make cassettes``. Headers with keys are filtered out (see conftest.py).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CASSETTE_TESTS = ["tests/test_openai_server.py"]


def wait_until_up(url: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"the server at {url} did not come up in {seconds:.0f}s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--model-path", help="GGUF file (default: the bundled SmolLM2)")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from briefing.llm.local import default_model_path

    model = args.model_path or str(default_model_path())
    base = f"http://127.0.0.1:{args.port}/v1"
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            model,
            "--host",
            "127.0.0.1",
            "--port",
            str(args.port),
            "--n_ctx",
            "8192",
            "--seed",
            "0",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_up(f"{base}/models")
        env = {**os.environ, "BRIEFING_RECORD_BASE_URL": base}
        return subprocess.call(
            [sys.executable, "-m", "pytest", "-q", *CASSETTE_TESTS, "--record-mode=rewrite"],
            cwd=ROOT,
            env=env,
        )
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    raise SystemExit(main())
