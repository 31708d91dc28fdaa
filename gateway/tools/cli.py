"""``jumbe graph`` and ``jumbe simulate``: wired into ``jumbe`` by ``gateway.cli``."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path
from typing import Any

COMMANDS = ("graph", "simulate")


def add_commands(subparsers: Any) -> None:
    """Register ``graph`` and ``simulate`` on ``jumbe``'s subparsers."""
    graph = subparsers.add_parser(
        "graph",
        help="draw a menu file as a Mermaid flowchart",
        description="Write a Mermaid flowchart of one menu file (screens, options, routes).",
    )
    graph.add_argument("file", type=Path, metavar="FILE", help="menu file (.yaml)")
    graph.add_argument("-o", "--output", type=Path, metavar="OUT", help="write here (.mmd) "
                       "instead of stdout")  # fmt: skip

    sim = subparsers.add_parser(
        "simulate",
        help="dial a menu from the terminal, as a phone would",
        description="Dial a service code like Africa's Talking does and show every screen "
        "with its page budget. Without --url, serves --menus in-process.",
    )
    sim.add_argument("--dial", required=True, metavar="CODE", help="service code, e.g. '*384#'")
    sim.add_argument(
        "--msisdn", default="+254700000001", help="phone number (default: %(default)s)"
    )
    sim.add_argument("--lang", help="subscriber's stored language (in-process only), e.g. sw")
    sim.add_argument("--url", help="a running gateway's USSD endpoint, e.g. "
                     "http://127.0.0.1:8000/ussd/africastalking (default: in-process)")  # fmt: skip
    sim.add_argument("--input", dest="inputs", metavar="A,B,…",
                     help="inputs to send, one per hop, split on commas; then exit "
                     "(default: read each from stdin)")  # fmt: skip
    sim.add_argument("--menus", type=Path, help="content folder for in-process (default: menus)")
    sim.add_argument("--token", help="callback token for --url (default: JUMBE_CALLBACK_TOKEN)")


def run(args: argparse.Namespace) -> int | None:
    """Run ``args.command`` if it is one of ours, else ``None``."""
    if args.command == "graph":
        return run_graph(args.file, args.output)
    if args.command == "simulate":
        return run_simulate(args)
    return None


def run_graph(path: Path, output: Path | None) -> int:
    """Print findings to stderr; exit 1 on errors, else write the diagram."""
    from gateway import channels, config
    from gateway.content.files import build_file
    from gateway.menu.model import Menu
    from gateway.tools.graph import mermaid

    built = build_file(path, channels.content_budget(config.from_env()))
    for finding in built.findings:
        print(finding, file=sys.stderr)
    if built.kind and built.kind != "menu":
        print(f"{path}: a {built.kind} file; jumbe graph draws menus", file=sys.stderr)
        return 1
    if not isinstance(built.value, Menu) or any(f.severity == "error" for f in built.findings):
        return 1
    diagram = mermaid(built.value)
    if output is None:
        sys.stdout.write(diagram)
    else:
        output.write_text(diagram, encoding="utf-8")
    return 0


def run_simulate(args: argparse.Namespace) -> int:
    """Build ``Options`` from flags and environment, then run one session."""
    from gateway import logs
    from gateway.tools.simulate import Options, simulate

    if args.url is None:
        # The in-process gateway logs every hop; keep the phone's screen clean.
        logs.configure("json", "warning", open(os.devnull, "wb"))  # noqa: SIM115
    options = Options(
        dial=args.dial, msisdn=args.msisdn, lang=args.lang, url=args.url,
        inputs=None if args.inputs is None else split_inputs(args.inputs),
        menus=args.menus or Path(os.environ.get("JUMBE_MENUS") or "menus"),
        token=args.token or os.environ.get("JUMBE_CALLBACK_TOKEN") or None,
    )  # fmt: skip
    try:
        return asyncio.run(simulate(options)).code
    except KeyboardInterrupt:  # Ctrl-C during a hop; the gateway and Redis are already stopped
        return 130


def split_inputs(raw: str) -> list[str]:
    """``"1,2,5"`` → ``["1", "2", "5"]``; spaces are kept, ``""`` means no input at all."""
    return raw.split(",") if raw else []
