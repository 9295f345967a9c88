"""Performance figures of the dispenser (`make bench`).

Each module here defines ``FIGURES``: a list of functions that each return
``(name, value, unit)``. ``python -m bench`` runs them all, prints ``name: value unit`` per
line and writes the same figures as JSON to ``bench/results.json``.
"""
