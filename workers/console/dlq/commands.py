"""`tradeflow dlq list|show|replay|purge`: the dead letters of every stage."""

from __future__ import annotations

import argparse
import sys

from workers.console.common import EXIT_FAILED, EXIT_OK, EXIT_USAGE, print_doc
from workers.settings import Settings


def dlq(args: argparse.Namespace, settings: Settings) -> int:
    from workers.console.access.authorize import AccessRefused, operate
    from workers.console.access.journal_entries import purge_entry, replay_entry
    from workers.console.dlq import operations as dlq

    def ask(count: int) -> bool:
        if args.yes:
            return True
        answer = input(f"Purge {count} dead letters from {args.queue}? [y/N] ")
        return answer.strip().lower() in ("y", "yes")

    try:
        if args.dlq_command == "list":
            doc, render = dlq.list_dead_letters(settings, args.queue), dlq.render_list
        elif args.dlq_command == "show":
            doc, render = dlq.show_dead_letter(settings, args.queue, args.message_id), dlq.render_show
        elif args.dlq_command == "replay":
            if bool(args.all) == bool(args.message_id):
                print("tradeflow dlq replay: give a MESSAGE_ID or --all", file=sys.stderr)
                return EXIT_USAGE
            message_id = None if args.all else args.message_id
            doc = operate(
                settings,
                args.operator,
                "dlq replay",
                lambda actor: dlq.replay_dead_letters(settings, args.queue, message_id, operator=actor),
                replay_entry,
            )
            render = dlq.render_replay
        else:
            doc = operate(
                settings,
                args.operator,
                "dlq purge",
                lambda actor: dlq.purge_dead_letters(settings, args.queue, confirm=ask),
                purge_entry,
            )
            render = dlq.render_purge
    except AccessRefused as exc:
        print(f"tradeflow dlq {args.dlq_command}: {exc}", file=sys.stderr)
        return exc.exit_code
    except dlq.UnknownQueue as exc:
        print(f"tradeflow dlq: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except dlq.DlqError as exc:
        print(f"tradeflow dlq: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print_doc(doc, args.json, render)
    return EXIT_FAILED if doc.get("found") is False else EXIT_OK
