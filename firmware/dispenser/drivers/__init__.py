"""Hardware drivers. Each receives its hardware objects (never constructs them; only the
board files import `machine`) and documents the minimal contract it needs, which the
tests' fakes implement exactly."""
