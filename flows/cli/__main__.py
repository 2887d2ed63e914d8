"""`python -m flows.cli ...`, the same as `opendata ...`."""

from flows.cli import app

app()
