"""Command line: ``python -m github_simulator --port 8001 --users 5000 --seed 42``.

Prints the base URL on stdout (alone on its line, so a script can read it) and a summary of the
world on stderr, then serves until Ctrl-C or SIGTERM.
"""

import argparse
import gc
import signal
import sys
import threading

from . import Simulator, World
from .faults import GRAPHQL_FAULT_KINDS
from .graphql_rules import MAX_NODE_IDS, MAX_NODES, MAX_PAGE_SIZE
from .server import FAULT_KINDS


def _add_options(group, *options):
    """Options taking a value, each (flag, type, default, metavar, help); a type or default of None is none."""
    for flag, kind, default, metavar, text in options:
        group.add_argument(flag, type=kind, default=default, metavar=metavar, help=text)


def _parser():
    parser = argparse.ArgumentParser(
        prog="python -m github_simulator",
        description="Serve a GitHub-compatible REST API (GET users, followers, following, starred, repos, "
                    "stargazers, rate_limit...) and GitHub's GraphQL API (POST /graphql, validated against "
                    "GitHub's published schema) for a synthetic world, offline. Point GITHUB_API_URL at the "
                    "printed base URL.",
        epilog="Control API (unless --no-control): GET /_simulator/stats, POST /_simulator/reset_stats, "
               "POST /_simulator/reset_quotas, POST /_simulator/world/<method> with a JSON list or object of "
               "arguments, e.g. curl -X POST localhost:8001/_simulator/world/follow -d '[\"alice\", \"bob\"]'.",
    )
    world = parser.add_argument_group("world")
    world.add_argument("--users", type=int, default=5000, help="accounts to generate (default: 5000)")
    world.add_argument("--seed", type=int, default=42, help="generation seed; same seed, same world (default: 42)")
    world.add_argument("--world", metavar="FILE", help="load this JSON world instead of generating one "
                                                     "(format: github_simulator/world.py)")
    server = parser.add_argument_group("server")
    server.add_argument("--host", default="127.0.0.1", help="interface to bind (default: 127.0.0.1)")
    server.add_argument("--port", type=int, default=8001, help="port; 0 picks a free one (default: 8001)")
    server.add_argument("--prefix", default="", metavar="PATH",
                        help="serve under a path, e.g. /api/v3 like GitHub Enterprise Server (default: none)")
    server.add_argument("--no-control", action="store_true", help="do not serve the /_simulator/ control API")
    server.add_argument("--verbose", action="store_true", help="log every request on stderr")
    limits = parser.add_argument_group("credentials and rate limits")
    _add_options(
        limits,
        ("--tokens", None, None, "A,B", "accept only these tokens (default: any token)"),
        ("--rate-limit", int, 5000, "N", "REST requests per window per token (default: 5000)"),
        ("--window", float, 3600, "SECONDS", "primary rate-limit window, REST and GraphQL (default: 3600)"),
        ("--unauthenticated-limit", int, 60, "N", "requests per window per IP without a token (default: 60)"),
        ("--secondary-concurrency", int, None, "K",
         "403 + retry-after beyond K requests in flight per caller, REST and GraphQL together (default: off)"),
        ("--secondary-per-minute", int, None, "K",
         "403 + retry-after beyond K REST requests per minute per caller (default: off)"),
        ("--secondary-retry-after", int, 60, "SECONDS", "retry-after of the concurrency limit (default: 60)"),
    )
    graphql = parser.add_argument_group(
        "GraphQL", f"GitHub's rules: every connection needs first or last, 1..{MAX_PAGE_SIZE}; at most "
                   f"{MAX_NODES:,} nodes a query; nodes(ids:) at most {MAX_NODE_IDS} ids; cost = requests / 100, "
                   "at least 1 point, from a bucket of its own per token (x-ratelimit-resource: graphql). A "
                   "query's time is modelled, not slept: seconds per returned node; past the timeout it "
                   "answers 502 and its points are still charged. The faults below apply to GraphQL too.")
    _add_options(
        graphql,
        ("--graphql-limit", int, 5000, "POINTS", "GraphQL points per window per token (default: 5000)"),
        ("--graphql-per-minute", int, 2000, "K",
         "403 + retry-after beyond K GraphQL queries a minute per token; 0 = off (default: 2000)"),
        ("--graphql-node-seconds", float, 0.0005, "S",
         "modelled seconds per returned node (default: 0.0005: 20,000 nodes reach 10 s)"),
        ("--graphql-timeout", float, 10.0, "S", "modelled seconds beyond which a query answers 502 (default: 10)"),
    )
    faults = parser.add_argument_group("fault injection")
    _add_options(
        faults,
        ("--fault-rate", float, 0.0, "F", "share of requests that fail, 0..1 (default: 0)"),
        ("--fault-kinds", None, "502,503,drop", "KINDS",
         f"comma-separated among {','.join(FAULT_KINDS)} (default: 502,503,drop)"),
        ("--slow-seconds", float, 5.0, "S", "delay of a 'slow' fault (default: 5)"),
        ("--latency", float, 0.0, "S", "seconds added to every answer (default: 0)"),
        ("--fault-seed", int, 0, "N", "seed of the fault draws (default: 0)"),
        ("--graphql-fault-rate", float, 0.0, "F",
         "share of GraphQL queries meeting a GraphQL fault, 0..1 (default: 0)"),
        ("--graphql-fault-kinds", None, ",".join(GRAPHQL_FAULT_KINDS), "KINDS",
         "comma-separated among rate_limited (another application spends the token's GraphQL "
         "window: 200 RATE_LIMITED until its reset), timeout (502, points charged), 502, 503, "
         "secondary (403 + retry-after), not_found (one alias null with NOT_FOUND) "
         "(default: all)"),
        ("--revoke-after", int, None, "N",
         "revoke the first of --tokens after N requests: 401 from then on (default: never)"),
    )
    return parser


def main(argv=None):
    """Generate or load the world, serve it, print the base URL, wait for Ctrl-C or SIGTERM."""
    args = _parser().parse_args(argv)
    world = World.load(args.world) if args.world else World.generate(users=args.users, seed=args.seed)
    # The world lives as long as the process: keep the garbage collector from rescanning it.
    gc.collect()
    gc.freeze()
    simulator = Simulator(
        world,
        tokens=[t for t in (args.tokens or "").split(",") if t] or None,
        rate_limit=args.rate_limit, window_seconds=args.window, unauthenticated_limit=args.unauthenticated_limit,
        secondary_concurrency=args.secondary_concurrency, secondary_per_minute=args.secondary_per_minute,
        secondary_retry_after=args.secondary_retry_after, fault_rate=args.fault_rate,
        fault_kinds=[k for k in args.fault_kinds.split(",") if k], slow_seconds=args.slow_seconds,
        latency=args.latency, seed=args.fault_seed, host=args.host, port=args.port, path_prefix=args.prefix,
        control=not args.no_control, verbose=args.verbose, graphql_limit=args.graphql_limit,
        graphql_per_minute=args.graphql_per_minute or None, graphql_node_seconds=args.graphql_node_seconds,
        graphql_timeout=args.graphql_timeout, graphql_fault_rate=args.graphql_fault_rate,
        graphql_fault_kinds=[k for k in args.graphql_fault_kinds.split(",") if k], revoke_after=args.revoke_after,
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    base_url = simulator.start()
    print(base_url, flush=True)
    summary = ", ".join(f"{value} {key.replace('_', ' ')}" for key, value in world.summary().items())
    print(f"github_simulator: {summary}. Ctrl-C to stop.", file=sys.stderr, flush=True)
    try:
        while not stop.wait(3600):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        simulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
