"""The `operator` facade: the operator functions real models import work; the attribute readers
that work from C around the guards are refused, and `itemgetter` reads through the item guard.

The real 1.5B, asked for a Boolean-expression tool, wrote ``import operator`` (a dict of
operator names to functions); the policy refused the import, and its retry, dropping the
import, reached ``operator.__dict__`` instead.
"""

from __future__ import annotations

import operator
import sys

import pytest

from sandbox import DEFAULT_POLICY, Sandbox
from sandbox._guards import guarded_itemgetter
from sandbox.policy import OPERATOR_NAMES

TOOL = '''
import operator
from functools import reduce


def apply_all(xs: list, op: str) -> list:
    """The product of xs, op applied to 3 and 5, xs sorted by descending value."""
    ops = {"and": operator.and_, "or": operator.or_, "+": operator.add, "<": operator.lt}
    by_key = sorted([(x, -x) for x in xs], key=operator.itemgetter(1))
    return [reduce(operator.mul, xs, 1), ops[op](3, 5), [p[0] for p in by_key],
            list(operator.itemgetter(0, 2)(xs)), operator.not_(operator.truth(0))]
'''


def test_operator_functions_work_in_a_tool(sb: Sandbox) -> None:
    r = sb.run(TOOL, "apply_all", kwargs={"xs": [2, 3, 4], "op": "+"})
    assert r.ok, r
    assert r.value == [24, 8, [4, 3, 2], [2, 4], True]
    r = sb.run(TOOL, "apply_all", kwargs={"xs": [1, 2, 3], "op": "<"})
    assert r.ok and r.value[1] is True


@pytest.mark.parametrize("name", ["attrgetter", "methodcaller", "iadd", "setitem", "delitem"])
def test_readers_around_the_guards_and_in_place_forms_are_refused(sb: Sandbox, name: str) -> None:
    assert name not in OPERATOR_NAMES
    for form in (f"from operator import {name}", f"import operator\n    x = operator.{name}"):
        r = sb.run(f"def f() -> int:\n    {form}\n    return 1\n", "f")
        assert not r.ok and r.error is not None, (form, r)
        assert r.error.type in ("ImportError", "AttributeError"), r.error


def test_itemgetter_reads_through_the_item_guard() -> None:
    assert guarded_itemgetter(1)([5, 6]) == 6
    assert guarded_itemgetter("a", "b")({"a": 1, "b": 2}) == (1, 2)
    with pytest.raises(KeyError, match="outside the sandbox"):
        guarded_itemgetter("m")({"m": sys})


def test_the_table_is_the_policys_and_names_real_functions() -> None:
    assert DEFAULT_POLICY.modules["operator"] == OPERATOR_NAMES
    assert set(OPERATOR_NAMES) <= set(dir(operator))
