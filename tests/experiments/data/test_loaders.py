"""The loaders read each real layout (fixtures of a few rows) and keep making and test apart."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from experiments.data import (
    DataError,
    Item,
    load_bbh,
    load_dataset,
    load_math,
    load_tabmwp,
    stratified_split,
)
from maker.tasks import Task, parse_line

FIX = Path(__file__).resolve().parents[1] / "fixtures"


def test_math500_without_training_split_is_cut_in_two_and_labelled():
    ds = load_math(FIX / "math500.jsonl", making_fraction=0.4, seed=3)
    assert not ds.comparable and "not comparable to published MATH-500" in ds.note
    making, test = {it.id for it in ds.making}, {it.id for it in ds.test}
    assert not making & test and len(making | test) == 20
    # stratified: each (subject, level) stratum of 5 gives round(5 * 0.4) = 2 to making
    strata = {(it.metadata["subject"], it.metadata["level"]) for it in ds.making}
    assert len(strata) == 4 and len(ds.making) == 8
    assert all(it.split == "train" for it in ds.making) and all(
        it.split == "test" for it in ds.test
    )
    assert all(it.metadata["comparable_to_published"] is False for it in ds.test)
    again = load_math(FIX / "math500.jsonl", making_fraction=0.4, seed=3)
    assert [it.id for it in again.making] == [it.id for it in ds.making]
    other = load_math(FIX / "math500.jsonl", making_fraction=0.4, seed=4)
    assert [it.id for it in other.making] != [it.id for it in ds.making]


def test_math500_items_keep_the_fields():
    item = load_math(FIX / "math500.jsonl").test[0]
    assert item.dataset == "math" and item.id.startswith("test/")
    assert item.gold == str(int(item.question.split("$")[1].split(" ")[0]) * 3)
    assert item.metadata["family"] == f"math:{item.metadata['subject']}"


def test_hendrycks_tree_uses_its_train_split_and_the_last_box():
    ds = load_math(FIX / "math_tree")
    assert ds.comparable
    assert sorted(it.id for it in ds.making) == ["train/algebra/1.json", "train/algebra/2.json"]
    golds = {it.id: it.gold for it in ds.test}
    assert golds == {"test/algebra/7.json": "2\\sqrt{3}", "test/geometry/3.json": "90^\\circ"}
    levels = {it.id: it.metadata["level"] for it in ds.test}
    assert levels["test/algebra/7.json"] == 3 and levels["test/geometry/3.json"] is None


def test_math500_with_a_separate_training_tree():
    ds = load_math(FIX / "math500.jsonl", train_path=FIX / "math_tree")
    assert ds.comparable and len(ds.making) == 2 and len(ds.test) == 20


def test_tabmwp_promptpg_json_and_jsonl_agree():
    ds = load_tabmwp(FIX / "tabmwp")
    assert [it.id for it in ds.making] == ["11", "12"] and len(ds.test) == 3
    from_jsonl = load_tabmwp(FIX / "tabmwp_test.jsonl")
    assert [it.to_json() for it in from_jsonl.test] == [it.to_json() for it in ds.test]
    assert from_jsonl.making == () and "evaluation only" in from_jsonl.note
    mc = next(it for it in ds.test if it.choices)
    assert mc.choices == ("yes", "no") and mc.gold == "no"
    first = ds.making[0]
    assert "Table: Stickers\nName | Stickers" in first.question
    assert first.question.endswith("(Unit: stickers)") and first.metadata["unit"] == "stickers"


def test_bbh_rows_split_as_latm_and_dyck_uses_latm_fields():
    ds = load_bbh(FIX / "bbh")
    assert {it.metadata["idx"] for it in ds.making} <= set(range(10))
    assert all(it.metadata["idx"] >= 10 for it in ds.test)
    splits = {it.id: it.split for it in ds.making}
    assert splits["word_sorting:0"] == "train" and splits["word_sorting:5"] == "validation"
    dyck = next(it for it in ds.test if it.metadata["task"] == "dyck_languages")
    assert dyck.gold == ">])" and dyck.question.endswith("Input: ([<")
    assert dyck.metadata["target"] == "> ] )"
    mc = next(it for it in ds.test if it.metadata["task"].startswith("logical"))
    assert mc.choices == (
        "(A) The owl is the leftmost",
        "(B) The hawk is the leftmost",
        "(C) The crow is the leftmost",
    )
    only = load_bbh(FIX / "bbh", tasks=("word_sorting",))
    assert {it.metadata["task"] for it in only.test} == {"word_sorting"}


def test_items_become_maker_tasks_that_pass_the_task_schema():
    for ds in (
        load_math(FIX / "math500.jsonl"),
        load_tabmwp(FIX / "tabmwp"),
        load_bbh(FIX / "bbh"),
    ):
        tasks = ds.tasks()
        assert len(tasks) == len(ds.making)
        for task in tasks:
            assert isinstance(task, Task) and task.split in ("train", "validation")
            assert isinstance(parse_line(json.dumps(task.to_json()), 1), Task)
    math_task = load_math(FIX / "math500.jsonl").making[0].to_task()
    assert "solution" not in math_task.metadata and math_task.metadata["subject"]
    task = load_tabmwp(FIX / "tabmwp").making[1].to_task()
    assert task.id == "tabmwp:12" and task.type == "tabmwp:extractive_text"
    assert task.answer == "Bo" and "Options: Ann; Bo" in task.text and task.has_gold


def test_item_json_round_trip():
    item = load_bbh(FIX / "bbh").test[-1]
    assert Item.from_json(json.loads(json.dumps(item.to_json()))) == item


def test_stratified_split_rejects_a_bad_fraction():
    with pytest.raises(DataError, match="between 0 and 1"):
        stratified_split([], 1.5, 0)


@pytest.mark.parametrize("name", ["math", "tabmwp", "bbh"])
def test_a_wrong_path_is_one_line_naming_it(name, tmp_path):
    with pytest.raises(DataError) as err:
        load_dataset(name, tmp_path / "nowhere")
    assert str(err.value) == f"{tmp_path / 'nowhere'}: no such file or directory"


def test_malformed_files_name_file_and_line(tmp_path):
    bad = tmp_path / "math.jsonl"
    lines = (FIX / "math500.jsonl").read_text().splitlines()
    bad.write_text("\n".join([lines[0], "{not json", *lines[1:]]) + "\n")
    with pytest.raises(DataError, match=rf"^{bad}:2: not valid JSON"):
        load_math(bad)
    row = json.loads(lines[0])
    del row["answer"]
    bad.write_text(lines[1] + "\n" + json.dumps(row) + "\n")
    with pytest.raises(DataError, match=rf"^{bad}:2: missing field 'answer'$"):
        load_math(bad)
    bbh = tmp_path / "bbh.jsonl"
    bbh.write_text(
        json.dumps({"task": "t", "idx": 3, "latm_split": "test", "input": "q", "target": "a"})
        + "\n"
    )
    with pytest.raises(DataError, match=rf"^{bbh}:1: latm_split 'test' does not match idx 3"):
        load_bbh(bbh)
    tab = tmp_path / "problems_test1k.json"
    tab.write_text('{"1": {"question": "q"')
    with pytest.raises(DataError, match=rf"^{tab}:1: not valid JSON"):
        load_tabmwp(tab)


def test_tree_problem_without_a_box_is_named(tmp_path):
    root = tmp_path / "MATH"
    shutil.copytree(FIX / "math_tree", root)
    broken = root / "test" / "algebra" / "7.json"
    broken.write_text(
        json.dumps(
            {"problem": "p", "level": "Level 1", "type": "Algebra", "solution": "no box here"}
        )
    )
    with pytest.raises(DataError, match=rf"^{broken}: the solution has no complete"):
        load_math(root)


def test_training_problems_that_are_also_test_problems_are_refused(tmp_path):
    with pytest.raises(DataError, match="also in"):
        load_tabmwp(
            FIX / "tabmwp" / "problems_test1k.json",
            making_path=FIX / "tabmwp" / "problems_test1k.json",
        )
