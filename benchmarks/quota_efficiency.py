"""Quota efficiency: GitHub requests a crawl spends, against the least any crawler could.

    python -m benchmarks.quota_efficiency             # 20,000-user world, 2,000 developers synced
    python -m benchmarks.quota_efficiency --quick     # 5,000-user world, 300 developers

A generated simulator world (`World.generate`, seed 42) is served by the project's GitHub simulator with one
token, no latency and a quota too large to run out: the benchmark counts requests, it does not wait for resets.
The crawl is the foreground `manage.py crawl` machinery (`call_command("crawl")`): the most-followed of the
world's first hundred accounts is the seed, then discovery chooses, until the number of developers asked for
is synced. Measured against the simulator's own count of quota-counted requests (free 304s and /rate_limit
excluded) and the ground truth of the world:

1. Cold crawl: quota-counted requests / the sum, over the developers synced, of the lower bound
   `1 + ceil(F/100) + ceil(G/100) + ceil(S/100) + ceil(R/100) + sum over owned public repositories of
   ceil(K_r/100)` (every list at least one page; stargazers capped at GitHub's 400 pages), with list sizes
   taken from the world when each developer was synced. Also developers, edges and repositories stored per
   1,000 quota units.
2. Unchanged re-sync: the same developers synced again (`sync.full_profile_sync`, in the crawl's order) with the
   world unchanged and within GITHUB_FULL_READ_DAYS: quota spent relative to the cold crawl.
3. 5%-changed re-sync: 5% of those developers each do one thing (follow or unfollow somebody, star or unstar a
   repository, edit their profile), then all are synced again: quota relative to the cold crawl, and how much
   of it the changes force (each changed list read whole, per the lower bound).

Database: its own PostgreSQL database `gom9k_perf_quota`, recreated each run (`--database-url` for another).
"""
import argparse
import io
import random
import sys
import time

from benchmarks.perf_common import database_url, header, setup_django, write_section

SECTION = ("quota-efficiency", "Crawl quota efficiency", "python -m benchmarks.quota_efficiency")
TOKEN = "quota-benchmark-token"  # noqa: S105 (the simulator's own fake token)
STARGAZER_PAGE_CAP = 400
TARGETS = {"cold": 1.02, "unchanged": 0.02, "changed": 0.10}


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
    """Rows the crawl has stored: developers (all, and synced), follow and star edges, repositories."""
    # pylint: disable=import-outside-toplevel
    from github.models import Developer, Follow, Repository, Star

    return {"developers": Developer.objects.count(),
            "synced": Developer.objects.filter(profile_synced_at__isnull=False).count(),
            "edges": Follow.objects.count() + Star.objects.count(),
            "repositories": Repository.objects.count()}


def quota(simulator) -> int:
    """Quota-counted requests the simulator has answered so far."""
    return simulator.stats()["total"]["quota_counted"]


def seed_login(world) -> str:
    """The most-followed of the world's first hundred accounts, as `make demo` seeds."""
    return max(world.logins()[:100], key=lambda login: len(world.followers_of(login)))


def crawl(world, developers: int):
    """The cold crawl through `manage.py crawl`; returns (seconds, synced logins in order, their lower bound)."""
    # pylint: disable=import-outside-toplevel
    from django.core.management import call_command

    from github.models import Developer

    started = time.perf_counter()
    # World truth is read before any change: the crawl leaves the world as it is.
    call_command("crawl", seed=seed_login(world), max_developers=developers, stdout=io.StringIO(),
                 stderr=io.StringIO())
    seconds = time.perf_counter() - started
    synced = list(Developer.objects.filter(profile_synced_at__isnull=False).order_by("profile_synced_at")
                  .values_list("login", flat=True))
    return seconds, synced, sum(lower_bound(world, login) for login in synced)


def resync(logins) -> float:
    """Sync each developer again, in the crawl's order; returns the seconds taken."""
    # pylint: disable=import-outside-toplevel
    from github import sync
    from github.client import GitHubClient

    started = time.perf_counter()
    with GitHubClient() as client:
        for login in logins:
            sync.full_profile_sync(client=client, login=login)
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


def ratio_line(label, value, target, unit="x"):
    """A table row: measured, target and whether it is met."""
    shown = f"{value:.4f}x" if unit == "x" else f"{value:.2%}"
    aim = f"<= {target:.2f}x" if unit == "x" else f"<= {target:.0%}"
    return f"| {label} | {shown} | {aim} | {'met' if value <= target else 'MISSED'} |"


def main(argv=None):  # pylint: disable=too-many-locals
    """Crawl, re-sync twice, print and record the figures; exit 1 when a target is missed."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--users", type=int, default=20_000, help="accounts in the generated world")
    parser.add_argument("--developers", type=int, default=2_000, help="developers the crawl syncs")
    parser.add_argument("--quick", action="store_true", help="5,000 users, 300 developers; BENCHMARKS.md untouched")
    parser.add_argument("--database-url", help="default: gom9k_perf_quota on this machine's PostgreSQL")
    args = parser.parse_args(argv)
    if args.quick:
        args.users, args.developers = 5_000, 300
    setup_django(args.database_url or database_url("gom9k_perf_quota"), fresh=True)
    # pylint: disable=import-outside-toplevel
    from django.conf import settings

    from github_simulator import Simulator, World

    world = World.generate(users=args.users, seed=42)
    simulator = Simulator(world, tokens=[TOKEN], rate_limit=10**9, latency=0)
    settings.GITHUB_API_URL, settings.GITHUB_API_KEY, settings.GITHUB_API_USER = simulator.start(), TOKEN, ""
    try:
        seconds, synced, bound = crawl(world, args.developers)
        cold, rows = quota(simulator), stored()
        unchanged_seconds = resync(synced)
        unchanged = quota(simulator) - cold
        kinds = change(world, synced, 0.05)
        changed_seconds = resync(synced)
        changed = quota(simulator) - cold - unchanged
    finally:
        simulator.stop()
    per_thousand = {name: count * 1000 / cold for name, count in rows.items()}
    summary = world.summary()
    body = (
        header(SECTION[2] + (" --quick" if args.quick else ""))
        + f"- World: `World.generate(users={args.users}, seed=42)`: {summary['users']:,} users, "
        f"{summary['organizations']:,} organisations, {summary['repositories']:,} repositories, "
        f"{summary['follows']:,} follows, {summary['stars']:,} stars; simulator with one token, no latency\n"
        f"- Crawl: `manage.py crawl --seed {seed_login(world)} --max-developers {args.developers}` (in process), "
        f"{len(synced):,} developers synced in {seconds:.0f} s; re-syncs: `sync.full_profile_sync` of the same "
        f"developers ({unchanged_seconds:.0f} s unchanged, {changed_seconds:.0f} s changed)\n"
        f"- Changes before the second re-sync ({sum(kinds.values())} developers, 5%): "
        + ", ".join(f"{count} {kind}" for kind, count in kinds.items()) + "\n\n"
        "| measure | value | target | |\n| --- | ---: | ---: | --- |\n"
        f"| cold crawl: quota-counted requests | {cold:,} | | |\n"
        f"| lower bound (design §3) summed over the synced developers | {bound:,} | | |\n"
        + ratio_line("cold crawl / lower bound", cold / bound, TARGETS["cold"]) + "\n"
        + f"| unchanged re-sync: quota-counted requests | {unchanged:,} | | |\n"
        + ratio_line("unchanged re-sync / cold crawl", unchanged / cold, TARGETS["unchanged"], "%") + "\n"
        + f"| 5%-changed re-sync: quota-counted requests | {changed:,} | | |\n"
        + ratio_line("5%-changed re-sync / cold crawl", changed / cold, TARGETS["changed"], "%") + "\n\n"
        "Stored per 1,000 quota units of the cold crawl:\n\n"
        "| developers (all) | developers (synced) | edges (follows + stars) | repositories |\n"
        "| ---: | ---: | ---: | ---: |\n"
        f"| {per_thousand['developers']:,.0f} | {per_thousand['synced']:,.1f} | {per_thousand['edges']:,.0f} | "
        f"{per_thousand['repositories']:,.0f} |\n\n"
        f"Totals stored: {rows['developers']:,} developers ({rows['synced']:,} synced), {rows['edges']:,} edges, "
        f"{rows['repositories']:,} repositories.\n"
    )
    print(body)
    if not args.quick:
        write_section(*SECTION, body)
    met = (cold / bound <= TARGETS["cold"] and unchanged / cold <= TARGETS["unchanged"]
           and changed / cold <= TARGETS["changed"])
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
