"""``xiaodai keys …``: the field-encryption key ring — status, add a version, re-encrypt (rotate).

Making a new version current is a maker-checker operation (``xiaodai approvals request key_rotate
--param version=N``); ``keys rotate`` then re-encrypts every stored row under it, in committed batches with a
progress bar. Killed mid-way, it resumes where it stopped; every row stays readable meanwhile.
"""

from __future__ import annotations

import os
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from xiaodai.cli.errors import REFUSED, fail
from xiaodai.cli.shell import emit, engine, run
from xiaodai.db.session import session_factory
from xiaodai.privacy import store
from xiaodai.privacy.crypto import KeyRing, KeyRingError
from xiaodai.privacy.keys import current_ring, ring_file, store_ring

app = typer.Typer(help="Field-encryption keys: status, add, rotate.", no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output")]


def _ring() -> KeyRing:
    try:
        return current_ring()
    except KeyRingError as exc:
        fail(str(exc))


@app.command("status")
def status(as_json: JsonOpt = False) -> None:
    """Current version, versions in the ring, and how many rows still wait for re-encryption."""
    ring = _ring()
    backlog = run(lambda s: store.rotation_backlog(s, ring))
    emit(
        {
            "current": ring.current,
            "versions": sorted(ring.keys),
            "rows_to_reencrypt": backlog,
            "source": "XIAODAI_KEYRING" if os.environ.get("XIAODAI_KEYRING") else str(ring_file()),
        },
        as_json,
        lambda p: typer.echo(
            f"key v{p['current']} current; versions {p['versions']}; "
            f"{p['rows_to_reencrypt']} rows to re-encrypt"
        ),
    )


@app.command("add")
def add(as_json: JsonOpt = False) -> None:
    """Add a new key version (not yet current: that needs an approved key_rotate)."""
    ring, version = _ring().with_new_version()
    try:
        store_ring(ring)
    except KeyRingError as exc:
        fail(str(exc))
    emit(
        {"added": version, "current": ring.current},
        as_json,
        lambda p: typer.echo(
            f"added key v{p['added']} (current stays v{p['current']}); next: "
            f"xiaodai approvals request key_rotate --param version={p['added']} --actor … --reason …"
        ),
    )


@app.command("rotate")
def rotate(
    batch: Annotated[int, typer.Option(min=1, max=100_000, help="Rows per committed batch")] = 500,
    as_json: JsonOpt = False,
) -> None:
    """Re-encrypt every stored row under the current key (resumable; exit 1 if rows remain unreadable)."""
    ring = _ring()
    factory = session_factory(engine())
    crash_after = int(os.environ.get("XIAODAI_FAULT_ROTATE_AFTER_BATCHES", "0"))  # fault injection (tests)

    def maybe_crash(batches: int) -> None:
        if crash_after and batches >= crash_after:
            os._exit(137)

    with Progress(
        TextColumn("re-encrypting"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), disable=as_json
    ) as bar:
        task = bar.add_task("rotate", total=None)
        done = store.rotate(
            factory,
            ring,
            batch=batch,
            progress=lambda n, total: bar.update(task, completed=n, total=total),
            after_batch=maybe_crash,
        )
    left = run(lambda s: store.rotation_backlog(s, ring))
    emit(
        {"reencrypted": done, "current": ring.current, "remaining": left},
        as_json,
        lambda p: typer.echo(f"re-encrypted {p['reencrypted']} rows under key v{p['current']}"),
    )
    if left:
        raise typer.Exit(REFUSED)
