"""`maker bench local`'s timing arithmetic and its command line (the real run needs the models)."""

from __future__ import annotations

from click.testing import CliRunner

from maker.bench.local import StreamTiming, time_stream
from maker.cli import main


def test_a_stream_is_timed_from_its_first_text_chunk() -> None:
    ticks = iter([1.5, 2.0, 2.5, 3.5])
    chunks = (
        [{"choices": [{"delta": {"role": "assistant"}}]}]
        + [{"choices": [{"delta": {"content": c}}]} for c in ("1", ",", " 2", "")]
        + [{"choices": [{"delta": {"content": "!"}}]}]
    )
    text = lambda ch: ch["choices"][0]["delta"].get("content") or ""  # noqa: E731
    timing = time_stream(chunks, text, prompt_tokens=30, started=1.0, clock=lambda: next(ticks))
    assert timing == StreamTiming(ttft_s=0.5, gen_tokens=3, gen_s=2.0, prompt_tokens=30)
    assert timing.gen_tps == 1.5 and timing.prompt_tps == 60.0


def test_an_empty_stream_has_no_rate() -> None:
    timing = time_stream([], lambda ch: "", prompt_tokens=5, started=0.0)
    assert timing.gen_tps == 0.0 and timing.gen_tokens == 0


def test_unknown_strategies_are_a_usage_error() -> None:
    result = CliRunner().invoke(main, ["bench", "local", "--strategies", "creator,magic"])
    assert result.exit_code == 2 and "unknown magic" in result.output
