"""The documented tool-arm pipeline's making step: BIG-Bench making tasks (a question and a gold
answer, no worked examples) written as `maker experiment tasks` does, made into a tool by
`maker make --strategy latm` (here `run_job` with a scripted maker)."""

from __future__ import annotations

from experiments.data.bbh import load_bbh
from library import Library
from maker.jobs import run_job
from maker.llm import ChatClient, RoleConfig, ScriptedModel
from maker.make import Options
from maker.tasks import dump_tasks, load_tasks

from . import world

TOOL = '''```python tool
def sort_words(words: list[str]) -> str:
    """Sort words alphabetically; return them joined by single spaces."""
    return " ".join(sorted(words))
```

```python calls
# Question 1
sort_words(words=["pear", "apple"])
# Question 2
sort_words(words=["kiwi", "fig"])
```
'''
HELD = '```python calls\n# Question 1\nsort_words(words=["plum", "lime"])\n```'


def test_bbh_making_tasks_become_a_latm_tool(tmp_path, sb):
    making = tmp_path / "making.jsonl"
    dump_tasks(load_bbh(world.FIXTURES / "bbh", ("word_sorting",)).tasks(), making)
    tasks, errors = load_tasks(making)
    assert errors == [] and all(t.examples == () for t in tasks)  # text and answer only
    model = ScriptedModel([TOOL, HELD])
    client = ChatClient(model, RoleConfig("maker", model="scripted"), local=True)
    report = run_job(
        tasks,
        "latm",
        client=client,
        library_dir=tmp_path / "lib",
        job_dir=tmp_path / "job",
        sandbox=sb,
        progress=False,
        options=Options(max_examples=10),
    )
    model.assert_consumed()
    assert (report.units, report.accepted, report.errors) == (1, 1, 0)
    prompts = " ".join(m["content"] for c in model.calls for m in c.messages)
    assert "lime plum" not in prompts and "yam" not in prompts  # held-out answer, test rows
    rec = Library.open(tmp_path / "lib", read_only=True).resolve("sort_words")
    assert [e["expected"] for e in rec.tests.examples] == ["apple pear", "fig kiwi"]
    assert rec.tests.held_out[0] == {
        "input": {"words": ["plum", "lime"]},
        "expected": "lime plum",
        "name": "task: bbh:word_sorting:5",
    }
