"""How a driver stage fans out: a plain function called once per argument tuple, either in this process
(tests, benchmarks, small inputs) or as Ray tasks spread over the cluster's nodes. Stages take a `Map`
and never import Ray themselves, so each step stays a function that can be tested alone."""

from __future__ import annotations

from collections.abc import Callable, Iterator

Map = Callable[[Callable, list[tuple]], Iterator]  # fn(*args) for each args; yields the results as they finish


def in_process(fn: Callable, calls: list[tuple]) -> Iterator:
    return (fn(*args) for args in calls)


def _on_node(fn: Callable, *args):
    import ray

    return ray.get_runtime_context().get_node_id(), fn(*args)


class RayMap:
    """A `Map` over Ray tasks (one CPU each, spread over the nodes: they read and write the shared output).
    Results come back as tasks finish; `nodes` collects where they ran. If the caller stops early (an
    error), the tasks still queued are cancelled."""

    def __init__(self) -> None:
        self.nodes: set[str] = set()

    def __call__(self, fn: Callable, calls: list[tuple]) -> Iterator:
        import ray

        remote = ray.remote(num_cpus=1, scheduling_strategy="SPREAD")(_on_node).options(name=fn.__name__)
        waiting = [remote.remote(fn, *args) for args in calls]
        try:
            while waiting:
                ready, waiting = ray.wait(waiting, num_returns=1)
                node, result = ray.get(ready[0])
                self.nodes.add(node)
                yield result
        finally:
            for ref in waiting:
                ray.cancel(ref)
