"""`orchestra dataset import|list` and `orchestra env apply|list|show`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.markup import escape

from orchestra.cli.output import emit, json_option, with_database
from orchestra.cli.params import NAME
from orchestra.services import config

_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


@click.group()
def dataset() -> None:
    """Test data sets: a scenario runs once per row when a suite run names one."""


@dataset.command("import")
@click.argument("name", type=NAME)
@click.argument("file", type=_FILE)
@json_option
def import_(name: str, file: Path, as_json: bool) -> None:
    """Import FILE (YAML, JSON or CSV rows) as data set NAME, replacing one of that name."""
    result = with_database(lambda db: config.import_data_set(db, name, file))

    def human(out: Console) -> None:
        columns = ", ".join(result["columns"])
        out.print(
            f"data set {escape(result['data_set'])}: {result['rows']} rows ({escape(columns)})"
        )

    emit(result, as_json=as_json, human=human)


@dataset.command("list")
@json_option
def list_data_sets(as_json: bool) -> None:
    """List the data sets."""
    found = with_database(config.list_data_sets)

    def human(out: Console) -> None:
        for data_set in found:
            out.print(f"{escape(data_set['data_set'])}: {data_set['rows']} rows")
        if not found:
            out.print("no data sets: add one with `orchestra dataset import NAME FILE`")

    emit({"data_sets": found}, as_json=as_json, human=human)


@click.group()
def env() -> None:
    """Environments: where the SUT is, how to authenticate, which secrets to read."""


@env.command()
@click.argument("file", type=_FILE)
@json_option
def apply(file: Path, as_json: bool) -> None:
    """Create or replace the environment FILE describes (secrets stay references)."""
    result = with_database(lambda db: config.apply_environment(db, file))

    def human(out: Console) -> None:
        out.print(f"environment {escape(result['environment'])}")
        for name, url in result["services"].items():
            out.print(f"  {escape(name)}: {escape(url)}")
        for name, tls in result["tls"].items():
            out.print(f"  tls{f' ({escape(name)})' if name else ''}: {escape(tls_text(tls))}")
        _print_references(out, result)

    emit(result, as_json=as_json, human=human)


@env.command()
@click.argument("name", type=NAME)
@json_option
def show(name: str, as_json: bool) -> None:
    """Show environment NAME as stored: references as written, certificates by fingerprint."""
    result = with_database(lambda db: config.show_environment(db, name))

    def human(out: Console) -> None:
        out.print(f"environment {escape(result['environment'])} (id {result['id']})")
        verify = "verified" if result["verify_tls"] else "NOT verified"
        out.print(f"  timeout {result['timeout']:g} s, certificates {verify}")
        if "tls" in result:
            out.print(f"  tls: {escape(tls_text(result['tls']))}")
        for service_name, service in result["services"].items():
            out.print(f"  {escape(service_name)}: {escape(service['base_url'])}")
            if "tls" in service:
                out.print(f"    tls: {escape(tls_text(service['tls']))}")
        _print_references(out, result)

    emit(result, as_json=as_json, human=human)


def _print_references(out: Console, result: dict[str, Any]) -> None:
    """Which variables are read at run time, and which of them reports mask."""
    if result["variables"]:
        refs = ", ".join(f"${{{ref}}}" for ref in result["variables"])
        out.print(f"  variables read at run time from: {escape(refs)}")
        masked = ", ".join(f"${{{ref}}}" for ref in result["secret_refs"]) or "none"
        out.print(f"  masked in reports (secrets): {escape(masked)}; the others are shown")


def tls_text(tls: dict[str, Any]) -> str:
    """One line for a described `tls` block (see `orchestra.binding.tls.describe`)."""
    parts = []
    if "ca_certificates" in tls:
        names = [c.get("subject") or c["sha256"][:16] for c in tls["ca_certificates"]]
        parts.append(f"trusts {tls.get('ca_file', 'inline CAs')} ({'; '.join(names)})")
    if "client_certificate" in tls:
        fingerprint = tls["client_certificate"][0]["sha256"][:16]
        where = tls.get("client_cert", "inline")
        parts.append(f"client certificate {where} (sha256 {fingerprint}...)")
        parts.append(f"key file {tls['client_key']}")
    if "server_hostname" in tls:
        parts.append(f"verified as {tls['server_hostname']}")
    if "min_version" in tls:
        parts.append(f"TLS {tls['min_version']} or newer")
    return ", ".join(parts) or "defaults"


@env.command("list")
@json_option
def list_environments(as_json: bool) -> None:
    """List the environments and the variables their secrets are read from."""
    found = with_database(config.list_environments)

    def human(out: Console) -> None:
        for environment in found:
            services = ", ".join(f"{k} {v}" for k, v in environment["services"].items())
            out.print(f"{escape(environment['environment'])}: {escape(services)}")
        if not found:
            out.print("no environments: add one with `orchestra env apply FILE`")

    emit({"environments": found}, as_json=as_json, human=human)
