"""Token counts come from packaged BPE data, offline, without loading bpe-openai's
native library."""

from __future__ import annotations

import subprocess
import sys

import pytest

from briefing.tokens import count_tokens, encoding_name_for_model, get_encoding


def test_counts_match_tiktoken_encodings() -> None:
    # fixed by the encodings themselves (tiktoken's documented examples)
    assert get_encoding("o200k_base").encode("hello world") == [24912, 2375]
    assert get_encoding("cl100k_base").encode("hello world") == [15339, 1917]
    assert count_tokens("<|endoftext|>") > 1  # special-token text counts as plain text


def test_model_names_pick_their_encoding() -> None:
    assert encoding_name_for_model("gpt-4o-mini") == "o200k_base"
    assert encoding_name_for_model("openai/gpt-4.1") == "o200k_base"
    assert encoding_name_for_model("gpt-4-turbo") == "cl100k_base"
    assert encoding_name_for_model("llama3") == "o200k_base"
    with pytest.raises(ValueError, match="unknown encoding"):
        get_encoding("p50k_base")


def test_loading_an_encoding_needs_no_network_and_no_native_library() -> None:
    program = (
        "import socket, sys\n"
        "def refuse(*a, **k): raise OSError('no network in this test')\n"
        "socket.socket.connect = refuse\n"
        "from briefing.tokens import count_tokens\n"
        "assert count_tokens('hello world') == 2\n"
        "assert 'bpe_openai' not in sys.modules\n"
        "print('ok')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.stdout.strip() == "ok", done.stderr[-2000:]
