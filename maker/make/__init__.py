"""Making tools: the strategy base (`base`), the steps every strategy shares (`steps`), and the
strategies themselves (`latm`, with `latm_text` for task types that are questions and gold
answers only, `creator`, `craft`). Room in the same shape: `use/`, `explore/`,
`repair/` beside this package."""

from maker.make.base import (
    REGISTRY,
    Context,
    Options,
    Strategy,
    StrategyUnavailable,
    Unit,
    UnitOutcome,
    available,
    get_strategy,
    routed_graph,
    router,
)

__all__ = [
    "REGISTRY",
    "Context",
    "Options",
    "Strategy",
    "StrategyUnavailable",
    "Unit",
    "UnitOutcome",
    "available",
    "get_strategy",
    "routed_graph",
    "router",
]
