"""Frictionless verdicts at the speed of reading the file.

A CSV is streamed with pyarrow batch by batch; every cell is checked vectorised where a check
can be proven to agree with Frictionless ("certainly valid"), and every row that is not
certainly valid is handed to Frictionless itself, so the error list is Frictionless's own:
same types, row numbers and field names. Unique, primary and foreign keys are checked on
64-bit hashes of the typed key values, so the table is never held twice.
"""

from flows.checks.fastcheck.validator import FastResult, validate_csv

__all__ = ["FastResult", "validate_csv"]
