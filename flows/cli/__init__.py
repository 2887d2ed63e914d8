"""The `opendata` command: a thin layer over the steps, one module per command. Each module
registers its command on `app` when imported; Prefect is imported only by `run` and `serve`.
The imports' order is the order of the commands in `opendata --help`."""
# ruff: noqa: I001

from flows.cli.common import app
from flows.cli.run import run
from flows.cli.validate import validate
from flows.cli.verify import verify
from flows.cli.serve import serve
from flows.cli.kolada import kolada
from flows.cli.browse import browse
from flows.cli.settings import show_settings
from flows.cli.show import print_file_verdict, print_summary, print_unchanged, print_warnings

__all__ = ["app", "browse", "kolada", "print_file_verdict", "print_summary", "print_unchanged",
           "print_warnings", "run", "serve", "show_settings", "validate", "verify"]
