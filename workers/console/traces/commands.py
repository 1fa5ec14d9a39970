"""`tradeflow trace TRADE_ID`: a trade's spans, from whichever trace backend is configured."""

from __future__ import annotations

import argparse
import sys

from workers.console.common import EXIT_FAILED, EXIT_OK, print_doc
from workers.settings import Settings


def trace(args: argparse.Namespace, settings: Settings) -> int:
    from pathlib import Path

    from workers.console.traces import TraceBackendError, open_backend
    from workers.console.traces.tree import render_trace, trace_document

    backend = open_backend(
        args.backend or settings.tradeflow_traces_backend,
        url=args.url or settings.tradeflow_traces_query_url,
        spans_path=Path(args.spans) if args.spans else settings.data_dir / "spans.jsonl",
    )
    try:
        doc = trace_document(backend, args.trade_id)
    except TraceBackendError as exc:
        print(f"tradeflow trace: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print_doc(doc, args.json, render_trace)
    return EXIT_OK if doc["spans"] else EXIT_FAILED
