"""Time convolution forward+backward: naive loops, the fast im2col version, and PyTorch on the CPU.

Same as ``python -m cnnbook bench`` (this script forwards its arguments), e.g.::

    python benchmarks/bench_conv.py --repeats 30
    python benchmarks/bench_conv.py --shapes 16->32:14x14 --batch 128
    python benchmarks/bench_conv.py --threads 1 --clock cpu --cs231n /tmp/peers/cs231n/assignment2 --dlfs /tmp/peers/dlfs

See benchmarks/README.md for how the numbers were taken and what they were.
"""
import argparse
import sys

from cnnbook.commands import bench

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    bench.add_arguments(parser)
    sys.exit(bench.run(parser.parse_args()))
