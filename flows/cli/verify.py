"""`opendata verify`: is a published release whole?"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from flows.cli.common import (
    JsonOption,
    OutOption,
    command,
    console,
    errors,
    helped,
    load_settings,
    write_json,
)
from flows.core.messages import say


@command("verify", "opendata verify", "opendata verify published/releases/20261202T020000Z --json")
def verify(
    release: Annotated[Path | None, typer.Argument(help=helped("cli.verify.release"))] = None,
    out: OutOption = None,
    as_json: JsonOption = False,
) -> None:
    """Every file against SHA256SUMS (none missing, none added, none changed), then every CSV
    against the schema in its datapackage.json with Frictionless's verdict (foreign keys
    included). Exit 0 when the release is intact, 1 when it is damaged or missing."""
    from flows.outputs.verify import verify_release

    folder = release or load_settings(out_dir=out).out_dir / "latest"
    damage = verify_release(folder.resolve())
    if as_json:
        write_json({"release": str(folder), "intact": not damage,
                    "damage": [d.model_dump() for d in damage]})
    elif damage:
        for item in damage:
            errors.print(f"[red]{item.message}[/red]", highlight=False, soft_wrap=True)
        errors.print(f"[red]{folder}: {say('cli.verify.damaged')}[/red] ({len(damage)}). "
                     f"{say('cli.verify.run-again')}", highlight=False)
    else:
        console.print(f"[green]{folder}: {say('cli.verify.intact')}[/green] (SHA256SUMS, Data "
                      "Package)", highlight=False)
    raise typer.Exit(1 if damage else 0)
