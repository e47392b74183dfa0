"""The maintainers' benchmarks (not part of the installed package).

Run each from the repository root as a module, ``python -m benchmarks.bench_conv --help`` and so on, so that
``benchmarks`` and the checkout's ``cnnbook`` are importable; ``benchmarks/README.md`` lists them and the numbers
they gave. What the scripts share is in :mod:`benchmarks.harness`.
"""
