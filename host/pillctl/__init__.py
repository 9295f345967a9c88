"""pillctl: host tooling for the open supplement dispenser."""

__version__ = "0.1.0"
