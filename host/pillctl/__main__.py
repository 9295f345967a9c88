"""`python -m pillctl` runs the CLI, so tests can run it from a source tree."""

from pillctl.cli import main

main()
