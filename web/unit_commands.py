"""``sopflow unit add|list|import`` and ``sopflow user set-unit``: the work units (OPD) of an
agency from the operator's command line, through engine/units.py like the admin page."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from engine import units
from engine.actors import Actor


def _run(args: argparse.Namespace) -> tuple[Any, Actor]:
    from .cli import _cli_actor, _engine, _settings

    engine, _ = _engine(_settings())
    return engine, _cli_actor(args.agency)


def cmd_unit(args: argparse.Namespace) -> int:
    engine, who = _run(args)
    if args.action == "add":
        unit = units.add_unit(engine, who, args.code, args.name)
        print(f"unit {unit.code} ({unit.name}) added to {args.agency}")
    elif args.action == "import":
        text = Path(args.file).read_text(encoding="utf-8-sig")
        result = units.import_units(engine, who, units.parse_csv(text))
        print(
            f"{args.agency}: {len(result.added)} added, {len(result.renamed)} renamed, "
            f"{len(result.unchanged)} unchanged"
        )
    else:
        for unit in units.list_units(engine, who):
            print(f"{unit.code}\t{unit.name}")
    return 0


def cmd_user_set_unit(args: argparse.Namespace) -> int:
    engine, who = _run(args)
    units.set_user_unit(engine, who, args.username, args.unit or None)
    print(f"user {args.username}: unit {args.unit or '-'}")
    return 0


def add_parsers(sub: Any, user_sub: Any) -> None:
    s = sub.add_parser("unit", help="work units (OPD) of an agency")
    usub = s.add_subparsers(dest="action", metavar="ACTION", required=True)
    u = usub.add_parser("add", help="add a work unit")
    u.add_argument("code", metavar="CODE", help="short code, e.g. disdik")
    u.add_argument("--name", required=True, help="e.g. 'Dinas Pendidikan'")
    u.add_argument("--agency", required=True, metavar="CODE")
    u.set_defaults(func=cmd_unit)
    u = usub.add_parser("list", help="list the units")
    u.add_argument("--agency", required=True, metavar="CODE")
    u.set_defaults(func=cmd_unit)
    u = usub.add_parser("import", help="add or rename units from a CSV file (code,name)")
    u.add_argument("file", metavar="FILE.csv")
    u.add_argument("--agency", required=True, metavar="CODE")
    u.set_defaults(func=cmd_unit)
    u = user_sub.add_parser("set-unit", help="put a user in a work unit ('' for none)")
    u.add_argument("username", metavar="USERNAME")
    u.add_argument("--unit", required=True, metavar="CODE")
    u.add_argument("--agency", required=True, metavar="CODE")
    u.set_defaults(func=cmd_user_set_unit)
