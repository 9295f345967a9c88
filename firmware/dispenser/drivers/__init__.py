"""Drivers: each receives hardware objects from the board and never constructs them."""
