"""The scheduler process: wiring only; every job is one call to a domain service."""
