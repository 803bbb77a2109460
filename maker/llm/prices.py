"""A versioned price table: dollars per 1M input, cached-input and output tokens, per model.

The table shipped with the package (`prices.json`) is the default; a user file with the same
shape overrides or adds models. Lookups fall back from a dated snapshot name to its base model
("gpt-4o-2024-08-06" -> "gpt-4o", longest prefix wins). Unknown models are not priced: the
caller records them as unpriced rather than guessing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from maker.llm.errors import PriceTableError
from maker.llm.types import Usage

PER_TOKENS = 1_000_000


@dataclass(frozen=True)
class Price:
    """Dollars per 1M tokens. `cached_input` defaults to `input` when a table omits it."""

    input: float
    output: float
    cached_input: float | None = None

    def cost(self, usage: Usage) -> float:
        """Dollars for one call's usage; cached prompt tokens are billed at `cached_input`."""
        cached = min(usage.cached_tokens, usage.prompt_tokens)
        cached_rate = self.input if self.cached_input is None else self.cached_input
        dollars = (
            (usage.prompt_tokens - cached) * self.input
            + cached * cached_rate
            + usage.completion_tokens * self.output
        )
        return dollars / PER_TOKENS


@dataclass(frozen=True)
class PriceTable:
    """Model prices with the version (a date) of the table they come from."""

    version: str
    models: Mapping[str, Price]

    def lookup(self, model: str) -> Price | None:
        """The price of `model`, of its longest-prefix base model, or None when unknown."""
        if model in self.models:
            return self.models[model]
        bases = [name for name in self.models if model.startswith(name + "-")]
        return self.models[max(bases, key=len)] if bases else None

    def merged(self, other: PriceTable) -> PriceTable:
        """This table with `other`'s models added or replacing; the version says both."""
        return PriceTable(
            version=f"{self.version}+{other.version}", models={**self.models, **other.models}
        )


def _parse(data: Any, source: str) -> PriceTable:
    if not isinstance(data, dict) or not isinstance(data.get("models"), dict):
        raise PriceTableError(f"{source}: expected an object with a 'models' object")
    version = data.get("version")
    if not isinstance(version, str) or not version:
        raise PriceTableError(f"{source}: add a 'version' string (e.g. the date of the prices)")
    models: dict[str, Price] = {}
    for name, entry in data["models"].items():
        try:
            price = Price(
                input=float(entry["input"]),
                output=float(entry["output"]),
                cached_input=None
                if entry.get("cached_input") is None
                else float(entry["cached_input"]),
            )
        except (TypeError, KeyError, ValueError, AttributeError):
            raise PriceTableError(
                f"{source}: models.{name} needs numeric 'input' and 'output' (and optional "
                f"'cached_input') in dollars per 1M tokens"
            ) from None
        if min(price.input, price.output, price.cached_input or 0.0) < 0:
            raise PriceTableError(f"{source}: models.{name} has a negative price")
        models[name] = price
    return PriceTable(version=version, models=models)


def default_price_table() -> PriceTable:
    """The table shipped with the package."""
    text = resources.files("maker.llm").joinpath("prices.json").read_text(encoding="utf-8")
    return _parse(json.loads(text), "maker/llm/prices.json")


def load_price_table(override: str | Path | None = None) -> PriceTable:
    """The shipped table, with models from the user's JSON file `override` on top."""
    table = default_price_table()
    if override is None:
        return table
    path = Path(override)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PriceTableError(f"price table {path} does not exist; fix price_table") from None
    except (OSError, ValueError) as exc:
        raise PriceTableError(f"price table {path} is not valid JSON: {exc}") from None
    return table.merged(_parse(data, str(path)))
