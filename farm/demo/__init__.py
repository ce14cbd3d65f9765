"""Demo data for `farm dev`, the browser tests and the benchmarks: a cooperative with a season
on sale and a season under way. Stands above every capability and is imported by none of
them."""

from farm.demo.offer import load_demo

__all__ = ["load_demo"]
