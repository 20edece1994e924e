"""How fast ``mockserver.strategies`` draws: 1,000 examples of every body, the largest one first.

Run: ``python -m benchmarks.bench_strategies [--draws N] [--given]``

Three numbers per strategy:

* ``build``: the first call, which fills the strategy's value pools with schemathesis's generator
  (paid once per process; ``strategies.warm_up()`` pays it for every operation up front);
* ``draw``: N draws through Hypothesis's own draw path (``ConjectureData.draw`` inside a build
  context, as ``@given`` does), without the test engine's per-example bookkeeping;
* with ``--given``: N examples of a real ``@given`` test (engine included), next to the same for
  ``st.integers()``, which is the engine's own floor on this machine.

"The largest schema" is the request body whose dereferenced schema is the biggest (createSource).
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections.abc import Callable

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.control import BuildContext
from hypothesis.internal.conjecture.data import ConjectureData
from hypothesis.strategies import SearchStrategy

from mockserver import load_spec
from mockserver import strategies as ms

NAMED: dict[str, Callable[[], SearchStrategy[object]]] = {
    "createSource": ms.source_create,
    "createAuthentication": ms.authentication_create,
    "tryTransformation": ms.transformation_try,
    "createTaskV1": ms.task_create_v1,
    "createTask": ms.task_create,
    "updateSource": ms.source_update,
    "createTransformation": ms.transformation_create,
    "createDestination": ms.destination_create,
    "push": ms.push_payload,
    "invalid createSource": ms.invalid_source_create,
}


def largest_body() -> tuple[str, int]:
    spec = load_spec()
    sizes = [
        (len(json.dumps(op.body_schema)), op_id)
        for op_id, op in spec.operations.items()
        if op.body_schema is not None
    ]
    size, op_id = max(sizes)
    return op_id, size


def draw_many(strategy: SearchStrategy[object], n: int, seed: int = 0) -> float:
    rng = random.Random(seed)
    started = time.perf_counter()
    for _ in range(n):
        data = ConjectureData(random=rng)
        with BuildContext(data, is_final=False, wrapped_test=draw_many):
            data.draw(strategy)
    return time.perf_counter() - started


def given_many(strategy: SearchStrategy[object], n: int) -> float:
    @settings(
        max_examples=n,
        database=None,
        deadline=None,
        derandomize=True,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def run(_value: object) -> None:
        pass

    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--given", action="store_true", help="also time real @given runs (slower)")
    args = parser.parse_args(argv)
    n = args.draws
    op_id, size = largest_body()
    print(f"largest request body: {op_id} ({size} characters of dereferenced schema)")
    print(f"{'strategy':<24}{'build s':>9}{f'{n} draws s':>14}{'draws/s':>10}")
    for name, make in NAMED.items():
        started = time.perf_counter()
        strategy = make()
        draw_many(strategy, 1)
        built = time.perf_counter() - started
        took = draw_many(strategy, n)
        print(f"{name:<24}{built:>9.2f}{took:>14.3f}{n / took:>10.0f}")
    if args.given:
        floor = given_many(st.integers(), n)
        took = given_many(ms.source_create(), n)
        print(f"@given x{n}: st.integers() {floor:.2f} s (engine floor), source_create() {took:.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
