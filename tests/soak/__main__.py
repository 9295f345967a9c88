"""`make soak`: python -m soak [--seed S] [--cycles N | --cycle C] [--workers W]."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from soak.campaign import report, run_campaign, write_results
from soak.realtime_phase import RealtimePhase


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="soak", description=__doc__)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cycles", type=int, default=1000, help="cycles 0..N-1, one cut each")
    parser.add_argument("--cycle", type=int, help="replay only this cycle of the seed")
    # A cycle mostly waits on the board: two boards per core keep the cores busy.
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1))
    parser.add_argument("--no-results", action="store_true", help="leave bench/results.json")
    parser.add_argument(
        "--realtime-boards", type=int, default=2,
        help="boards living meals in real time beside the campaign (0: none)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    cycles = [args.cycle] if args.cycle is not None else list(range(args.cycles))
    realtime = None
    if args.cycle is None and args.realtime_boards:
        # Beside the campaign, so the boards keep time on a loaded machine; a meal that
        # failed keeps its board's folder here.
        workdir = Path(tempfile.mkdtemp(prefix="soak-realtime-"))
        print(f"real-time phase: {args.realtime_boards} boards in {workdir}")
        realtime = RealtimePhase(workdir, args.realtime_boards).start()
    # A replayed cycle also prints its log and servo moves.
    figures = run_campaign(args.seed, cycles, args.workers, verbose=args.cycle is not None)
    if realtime is not None:
        figures.realtime = realtime.finish()
    report(figures)
    if args.cycle is None and not args.no_results:
        write_results(figures)
    if not figures.ok:
        print(f"soak: {len(figures.failed)} cycles failed; each prints its replay command")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
