"""`jixiao` console script: chat, run, webhook, db upgrade, export, preview, import.

Heavy imports happen inside each command, so `jixiao --help` and a settings error stay fast.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jixiao", description="预算绩效目标表填报助手 (budget performance target tables)"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    chat = commands.add_parser("chat", help="fill the tables in this terminal (no Telegram needed)")
    chat.add_argument("--department", help="部门名称 (asked when omitted)")
    chat.add_argument("--year", type=int, help="年度 (asked when omitted)")
    chat.add_argument(
        "--layout", default=None, help="form layout for a new round, e.g. 2021 or 2023"
    )

    commands.add_parser("run", help="run the Telegram bot with long polling")
    commands.add_parser("webhook", help="run the Telegram bot behind a webhook (WEBHOOK_URL)")

    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    db_commands.add_parser("upgrade", help="apply the migrations to the newest schema")

    export = commands.add_parser("export", help="write a department's or a round's workbook")
    export.add_argument("--year", type=int, required=True)
    export.add_argument("--department", help="部门名称; omit for the consolidated round workbook")
    export.add_argument(
        "--output", "-o", help="file or directory to write (default: here); FILE.pdf writes a PDF"
    )

    preview = commands.add_parser(
        "preview", help="write the printed pages of a department's or a round's tables as PNGs"
    )
    preview.add_argument("--year", type=int, required=True)
    preview.add_argument("--department", help="部门名称; omit for the whole round")
    preview.add_argument("--output", "-o", required=True, help="directory for the PNG pages")

    imported = commands.add_parser(
        "import", help="read a filled workbook into a department's draft"
    )
    imported.add_argument("workbook")
    imported.add_argument("--year", type=int, required=True)
    imported.add_argument("--department", required=True)
    imported.add_argument("--yes", action="store_true", help="apply without asking")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from bot.settings import settings_or_exit

    if args.command == "chat":
        from bot.terminal import run_terminal

        return run_terminal(settings_or_exit(), args.department, args.year, args.layout)
    if args.command in ("run", "webhook"):
        from bot.startup import run_bot

        return run_bot(settings_or_exit(require_token=True), webhook=args.command == "webhook")
    if args.command == "db":
        from storage.db import upgrade

        upgrade(settings_or_exit().effective_database_url)
        print("数据库已是最新结构。")
        return 0
    if args.command == "export":
        from bot.files import export_command

        return export_command(settings_or_exit(), args.year, args.department, args.output)
    if args.command == "preview":
        from bot.files import preview_command

        return preview_command(settings_or_exit(), args.year, args.department, args.output)
    if args.command == "import":
        from bot.files import import_command

        return import_command(
            settings_or_exit(), args.workbook, args.year, args.department, assume_yes=args.yes
        )
    return 2


if __name__ == "__main__":
    sys.exit(main())
