"""Quota efficiency of the three API modes side by side: what a crawl spends in REST requests and GraphQL points.

    python -m benchmarks.quota_efficiency             # 20,000-user world, 2,000 developers synced
    python -m benchmarks.quota_efficiency --quick     # 5,000-user world, 300 developers (BENCHMARKS.md untouched)
    python -m benchmarks.quota_efficiency --modes hybrid,graphql  # some modes only (BENCHMARKS.md untouched)

For each of GITHUB_API_MODE rest, hybrid and graphql, on a fresh database and a freshly generated world
(`World.generate`, seed 42) served by the project's GitHub simulator with one token, no latency and quotas too
large to run out (the benchmark counts units, it does not wait for resets) and GraphQL's default node-time
model: the foreground `manage.py crawl` (the most-followed of the world's first hundred accounts is the seed,
then discovery chooses) until the number of developers asked for is synced. Quota units = REST quota-counted
requests (free 304s and /rate_limit excluded) + GraphQL points charged, as the simulator counts them:

1. Cold crawl: units; fully synced developers (profile and every list read whole) and developers stored with a
   full profile (counts included) per 1,000 units; token-hours (the larger bucket over 5,000); in REST mode,
   requests / the sum over the synced developers of the lower bound of a cold sync
   `1 + ceil(F/100) + ceil(G/100) + ceil(S/100) + ceil(R/100) + sum over owned public repositories of
   ceil(K_r/100)` (stargazers capped at GitHub's 400 pages).
2. Two re-syncs of the same developers, in the crawl's order, with the world unchanged (hybrid: through REST;
   the first pays once for the validators a GraphQL read does not give).
3. 5%-changed re-sync: 5% of those developers each do one thing (follow or unfollow somebody, star or unstar a
   repository, edit their profile), then all are synced again.
4. GraphQL points wasted on timeouts (502s) and the batch sizes the planner sent.

Re-syncs are shares of REST mode's cold crawl; a run without REST mode takes the REST lower bound of the
developers each mode synced instead (REST mode's cold crawl is 1.0000x of its own), and says so. Only a
full-size run of all three modes rewrites BENCHMARKS.md's section: a partial one would drop a column.

Database: its own PostgreSQL database `gom9k_perf_quota`, recreated each run (`--database-url` for another).
"""
import argparse
import io
import random
import sys
import time

from benchmarks.harness import setup_django
from benchmarks.perf_common import database_url, header, write_section

SECTION = ("quota-efficiency", "Crawl quota efficiency", "python -m benchmarks.quota_efficiency")
TOKEN = "quota-benchmark-token"  # noqa: S105 (the simulator's own fake token)
STARGAZER_PAGE_CAP = 400
TARGETS = {"cold": 1.02, "unchanged": 0.02, "changed": 0.10, "fully_synced": 1000, "profiled": 10_000}
MODES = ("rest", "hybrid", "graphql")
# A token's hourly quota in either bucket.
TOKEN_HOUR = 5000


def pages(count: int, cap: int | None = None) -> int:
    """Requests to read a list of `count` items, 100 a page: an empty list still costs its page."""
    needed = max(1, -(-count // 100))
    return min(needed, cap) if cap else needed


def lower_bound(world, login: str) -> int:
    """The least number of requests of a cold sync of `login`, from the world's truth: the profile, a page per
    100 of each of its four lists and of each owned repository's stargazers (an empty list still costs its page)."""
    return (1 + pages(len(world.followers_of(login))) + pages(len(world.following_of(login)))
            + pages(len(world.starred_by(login))) + pages(len(world.repos_of(login)))
            + sum(pages(len(world.stargazers_of(name)), STARGAZER_PAGE_CAP) for name in world.repos_of(login)))


def stored():
    """Rows the crawl has stored: developers (all, synced, fully synced, with a full profile), follow and star
    edges, repositories."""
    # pylint: disable=import-outside-toplevel
    from github.models import Developer, Follow, Repository, Star

    lists_read = {f"{name}_synced_at__isnull": False for name in ("followers", "following", "starred", "repositories")}
    return {"developers": Developer.objects.count(),
            "synced": Developer.objects.filter(profile_synced_at__isnull=False).count(),
            "fully_synced": Developer.objects.filter(profile_synced_at__isnull=False, **lists_read).count(),
            "profiled": Developer.objects.filter(followers_count__isnull=False).count(),
            "edges": Follow.objects.count() + Star.objects.count(),
            "repositories": Repository.objects.count()}


def quota(simulator) -> tuple[int, int]:
    """(REST quota-counted requests, GraphQL points charged) the simulator has answered so far."""
    total = simulator.stats()["total"]
    return total["quota_counted"], total["graphql_points"]


def seed_login(world) -> str:
    """The most-followed of the world's first hundred accounts, as `make demo` seeds."""
    return max(world.logins()[:100], key=lambda login: len(world.followers_of(login)))


def crawl(world, developers: int):
    """The cold crawl through `manage.py crawl`; returns (seconds, synced logins in order, their lower bound, the
    crawl's GraphQL planner: its client's stats and the batch sizes it sent)."""
    # pylint: disable=import-outside-toplevel
    from django.core.management import call_command

    from github.management.commands.crawl import Command
    from github.models import Developer

    started = time.perf_counter()
    # World truth is read before any change: the crawl leaves the world as it is.
    command = Command(stdout=io.StringIO(), stderr=io.StringIO())
    call_command(command, seed=seed_login(world), max_developers=developers)
    seconds = time.perf_counter() - started
    synced = list(Developer.objects.filter(profile_synced_at__isnull=False).order_by("profile_synced_at")
                  .values_list("login", flat=True))
    return seconds, synced, sum(lower_bound(world, login) for login in synced), command.cold


def resync(logins) -> float:
    """Sync each developer again, in the crawl's order, through the transport the mode chooses; returns seconds."""
    # pylint: disable=import-outside-toplevel
    from github import graphql_sync
    from github.client import GitHubClient
    from github.graphql_client import GraphQLClient

    started = time.perf_counter()
    with GitHubClient() as client:
        cold = graphql_sync.ColdSync(client, GraphQLClient(client))
        for start in range(0, len(logins), graphql_sync.DEVELOPERS_PER_QUERY):
            graphql_sync.sync_developers(client, logins[start:start + graphql_sync.DEVELOPERS_PER_QUERY], cold=cold)
    return time.perf_counter() - started


def change(world, logins, share: float, seed: int = 6) -> dict:
    """Make `share` of `logins` each do one thing on GitHub; returns how many of each kind."""
    rng = random.Random(seed)
    kinds = {"follow": 0, "unfollow": 0, "star": 0, "unstar": 0, "profile": 0}
    everybody = world.logins()
    for login in rng.sample(logins, round(len(logins) * share)):
        kind = rng.choices(list(kinds), weights=[3, 1, 3, 1, 2])[0]
        following, starred = world.following_of(login), world.starred_by(login)
        if kind == "unfollow" and following:
            world.unfollow(login, rng.choice(following))
        elif kind == "unstar" and starred:
            world.unstar(login, rng.choice(starred))
        elif kind == "star" and world.user(login)["type"] == "User":
            owner = rng.choice(everybody)
            while not world.repos_of(owner):
                owner = rng.choice(everybody)
            world.star(login, rng.choice(world.repos_of(owner)))
        elif kind == "follow" and world.user(login)["type"] == "User":
            world.follow(login, rng.choice([other for other in rng.sample(everybody, 5) if other != login]))
        else:
            kind = "profile"
            world.update_user(login, bio=f"changed {rng.random():.6f}")
        kinds[kind] += 1
    return kinds


def run_mode(mode: str, args) -> dict:
    """One mode's cold crawl and three re-syncs (unchanged twice, then 5% changed) on a fresh world and database."""
    # pylint: disable=import-outside-toplevel
    from django.conf import settings
    from django.core.management import call_command

    from github_simulator import Simulator, World

    call_command("flush", interactive=False, verbosity=0)
    world = World.generate(users=args.users, seed=42)
    simulator = Simulator(world, tokens=[TOKEN], rate_limit=10**9, graphql_limit=10**9, latency=0)
    settings.GITHUB_API_URL, settings.GITHUB_API_KEY, settings.GITHUB_API_USER = simulator.start(), TOKEN, ""
    settings.GITHUB_API_MODE = mode
    figures = {"mode": mode, "world": world.summary(), "seed": seed_login(world)}
    try:
        figures["seconds"], synced, figures["bound"], cold = crawl(world, args.developers)
        figures["cold"], figures["rows"] = quota(simulator), stored()
        figures["timeouts"], figures["wasted"] = cold.graphql.stats["timeouts"], cold.graphql.stats["wasted_points"]
        figures["batches"] = (cold.developer_batches.used, cold.page_batches.used, cold.profile_batches.used)
        spent = figures["cold"]
        for name in ("resync_1", "resync_2", "changed"):
            if name == "changed":
                figures["kinds"] = change(world, synced, 0.05)
            seconds = resync(synced)
            now = quota(simulator)
            figures[name] = (now[0] - spent[0], now[1] - spent[1])
            figures[name + "_seconds"], spent = seconds, now
    finally:
        simulator.stop()
    return figures


def units(pair) -> int:
    """Quota units: REST requests + GraphQL points."""
    return pair[0] + pair[1]


def rest_cold_units(results: list[dict], figures: dict) -> int:
    """What a re-sync is a share of: REST mode's cold crawl, or without it the REST lower bound of the same
    developers."""
    rest = next((other for other in results if other["mode"] == "rest"), None)
    return units(rest["cold"]) if rest else figures["bound"]


def mode_table(results: list[dict]) -> str:
    """The modes side by side."""
    def row(label, value):
        return f"| {label} | " + " | ".join(value(figures) for figures in results) + " |\n"

    def per_thousand(name):
        return lambda figures: f"{figures['rows'][name] * 1000 / units(figures['cold']):,.0f}"

    def quota_pair(name):
        return lambda figures: f"{figures[name][0]:,} + {figures[name][1]:,}"

    def share(name):
        return lambda figures: f"{units(figures[name]) / rest_cold_units(results, figures):.2%}"

    def count(name):
        return lambda figures: f"{figures['rows'][name]:,}"

    def sizes(index):
        return lambda figures: (f"{min(figures['batches'][index])}-{max(figures['batches'][index])}"
                                if figures["batches"][index] else "-")

    rows = [
        ("cold crawl: REST requests + GraphQL points", quota_pair("cold")),
        ("cold crawl: quota units", lambda figures: f"{units(figures['cold']):,}"),
        ("fully synced developers (profile and every list read whole)", count("fully_synced")),
        ("**fully synced developers per 1,000 units** (target >= 1,000 in hybrid)", per_thousand("fully_synced")),
        ("developers stored with a full profile (counts included)", count("profiled")),
        ("developers stored (all)", count("developers")),
        ("**profiled developers per 1,000 units** (target >= 10,000)", per_thousand("profiled")),
        ("edges per 1,000 units", per_thousand("edges")),
        ("token-hours (larger bucket / 5,000)", lambda figures: f"{max(figures['cold']) / TOKEN_HOUR:.2f}"),
        ("first re-sync, world unchanged (requests + points)", quota_pair("resync_1")),
        ("second re-sync, world unchanged (requests + points)", quota_pair("resync_2")),
        ("unchanged re-sync / REST cold crawl (target 0)", share("resync_2")),
        ("5%-changed re-sync (requests + points)", quota_pair("changed")),
        ("5%-changed re-sync / REST cold crawl (target <= 10%)", share("changed")),
        ("GraphQL points wasted on timeouts (502s)", lambda figures: f"{figures['wasted']} ({figures['timeouts']})"),
        ("batch sizes: developers per query", sizes(0)),
        ("batch sizes: pages per query", sizes(1)),
        ("batch sizes: profiles per query", sizes(2)),
        ("cold crawl seconds", lambda figures: f"{figures['seconds']:.0f}"),
    ]
    return ("| measure | " + " | ".join(f"`{figures['mode']}`" for figures in results) + " |\n"
            + "| --- |" + " ---: |" * len(results) + "\n" + "".join(row(label, value) for label, value in rows))


def main(argv=None):
    """The three modes' crawls and re-syncs, printed and recorded; exit 1 when a target is missed."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--users", type=int, default=20_000, help="accounts in the generated world")
    parser.add_argument("--developers", type=int, default=2_000, help="developers the crawl syncs")
    parser.add_argument("--quick", action="store_true", help="5,000 users, 300 developers; BENCHMARKS.md untouched")
    parser.add_argument("--modes", default=",".join(MODES),
                        help="comma-separated modes to run, in this order (default: all three); a run of fewer "
                        "prints its table and leaves BENCHMARKS.md untouched")
    parser.add_argument("--database-url", help="default: gom9k_perf_quota on this machine's PostgreSQL")
    args = parser.parse_args(argv)
    if args.quick:
        args.users, args.developers = 5_000, 300
    modes = args.modes.split(",")
    if not modes or set(modes) - set(MODES) or len(set(modes)) != len(modes):
        parser.error(f"--modes: a comma-separated list of distinct modes among {', '.join(MODES)}")
    setup_django(args.database_url or database_url("gom9k_perf_quota"), fresh=True)
    results = [run_mode(mode, args) for mode in modes]
    first, summary = results[0], results[0]["world"]
    rest = next((figures for figures in results if figures["mode"] == "rest"), None)
    if rest:
        against = (f"- REST mode against design §3's lower bound: {units(rest['cold']):,} requests / "
                   f"{rest['bound']:,} = {units(rest['cold']) / rest['bound']:.4f}x "
                   f"(target <= {TARGETS['cold']:.2f}x)\n")
    else:
        against = ("- REST mode not run: re-syncs are shares of the REST lower bound of the developers each mode "
                   "synced (" + ", ".join(f"`{figures['mode']}` {figures['bound']:,}" for figures in results)
                   + " requests; REST mode's cold crawl is 1.0000x of its own)\n")
    body = (
        header(SECTION[2] + (" --quick" if args.quick else "")
               + ("" if modes == list(MODES) else f" --modes {','.join(modes)}"))
        + f"- World: `World.generate(users={args.users}, seed=42)`: {summary['users']:,} users, "
        f"{summary['organizations']:,} organisations, {summary['repositories']:,} repositories, "
        f"{summary['follows']:,} follows, {summary['stars']:,} stars; simulator with one token, no latency, "
        "GraphQL's default node-time model (a query returning more than 20,000 nodes times out)\n"
        f"- Crawl: `GITHUB_API_MODE=<mode> manage.py crawl --seed {first['seed']} --max-developers {args.developers}`"
        " (in process) per mode, each on a fresh database and world; re-syncs: `graphql_sync.sync_developers` of "
        "the same developers in the crawl's order (hybrid: through REST)\n"
        f"- Changes before the third re-sync ({sum(first['kinds'].values())} developers, 5%): "
        + ", ".join(f"{count} {kind}" for kind, count in first["kinds"].items()) + "\n"
        + against + "\n" + mode_table(results)
    )
    print(body)
    if not args.quick and modes == list(MODES):
        write_section(*SECTION, body)
    hybrid = next((figures for figures in results if figures["mode"] == "hybrid"), None)
    met = rest is None or (units(rest["cold"]) / rest["bound"] <= TARGETS["cold"] and units(rest["resync_2"]) == 0
                           and units(rest["changed"]) / units(rest["cold"]) <= TARGETS["changed"])
    if hybrid is not None:
        met = met and all(hybrid["rows"][name] * 1000 / units(hybrid["cold"]) >= target
                          for name, target in (("fully_synced", TARGETS["fully_synced"]),
                                               ("profiled", TARGETS["profiled"])))
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
