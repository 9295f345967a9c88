"""Runs tests/core/test_*.py modules under the MicroPython unix port.

The core tests are plain functions with asserts, so the same files run under pytest
(CPython) and here. Usage: micropython tests/mp_runner.py MODULE...
Prints one line per failure and closes with "N passed, N failed".
"""

import sys


def run_module(name):
    module = __import__(name)
    passed = 0
    failed = 0
    for attr in sorted(dir(module)):
        if not attr.startswith("test_"):
            continue
        test = getattr(module, attr)
        if not callable(test):
            continue
        try:
            test()
            passed += 1
        except Exception as exc:  # report every failure, keep going
            failed += 1
            print("FAIL " + name + "." + attr + ": " + type(exc).__name__ + ": " + str(exc))
            sys.print_exception(exc)
    return passed, failed


def main(names):
    total_passed = 0
    total_failed = 0
    for name in names:
        p, f = run_module(name)
        total_passed += p
        total_failed += f
    print(str(total_passed) + " passed, " + str(total_failed) + " failed")
    return 1 if total_failed or not total_passed else 0


sys.exit(main(sys.argv[1:]))
