"""Plausible GitHub-looking text for generated worlds.

Profile and repository details (names, bios, descriptions, languages, dates, ...) are not stored for
generated worlds: they are derived on demand from ``(world seed, entity id)``. That keeps a
100,000-user world small in memory, makes every detail deterministic no matter in which order the
simulator renders things, and lets ``World.generate`` stay fast. Only the graph (who follows whom,
who owns and stars what) and identity (ids, logins, repository names) are materialised.

The vocabulary deliberately mixes ASCII, accented Latin, CJK, Cyrillic, Arabic and emoji, because
crawlers written against GitHub break on exactly those: the simulator should break them first.
"""

import random
import time
from calendar import timegm

#: 2008-02-08, the first GitHub sign-ups.
GITHUB_START = timegm((2008, 2, 8, 0, 0, 0))
#: The fixed "now" of generated worlds: generation must not depend on the wall clock.
WORLD_NOW = timegm((2025, 6, 1, 0, 0, 0))


def iso(ts):
    """GitHub's timestamp format: ``2011-01-26T19:01:12Z``."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def parse_iso(text):
    """Inverse of :func:`iso`; also accepts a trailing ``+00:00``."""
    return timegm(time.strptime(text.replace("+00:00", "Z"), "%Y-%m-%dT%H:%M:%SZ"))


# ---------------------------------------------------------------------------------------------
# Vocabulary
# ---------------------------------------------------------------------------------------------

# (display first name, ASCII stem usable in a login)
FIRST_NAMES = [
    ("Alice", "alice"), ("Bob", "bob"), ("José", "jose"), ("Zoë", "zoe"), ("Łukasz", "lukasz"),
    ("Søren", "soren"), ("Chloé", "chloe"), ("Björn", "bjorn"), ("Михаил", "mikhail"), ("李", "li"),
    ("Yūki", "yuki"), ("Ngozi", "ngozi"), ("Aarav", "aarav"), ("فاطمة", "fatima"), ("Nguyễn", "nguyen"),
    ("Maria", "maria"), ("Wei", "wei"), ("Olga", "olga"), ("Kwame", "kwame"), ("Priya", "priya"),
    ("Jürgen", "jurgen"), ("Ana", "ana"), ("Mateo", "mateo"), ("Hana", "hana"), ("Omar", "omar"),
    ("Élodie", "elodie"), ("Sven", "sven"), ("Chen", "chen"), ("Ayşe", "ayse"), ("Tomás", "tomas"),
    ("Ingrid", "ingrid"), ("Ravi", "ravi"), ("Mei", "mei"), ("Dmitri", "dmitri"), ("Lucía", "lucia"),
    ("Kofi", "kofi"), ("Sakura", "sakura"), ("Liam", "liam"), ("Noor", "noor"), ("Pål", "pal"),
]
LAST_NAMES = [
    ("Smith", "smith"), ("García", "garcia"), ("Müller", "muller"), ("Kowalski", "kowalski"),
    ("Nakamura", "nakamura"), ("Ivanova", "ivanova"), ("O'Brien", "obrien"), ("Nørgaard", "norgaard"),
    ("Okafor", "okafor"), ("Patel", "patel"), ("Dubois", "dubois"), ("Wang", "wang"), ("Rossi", "rossi"),
    ("Silva", "silva"), ("Yılmaz", "yilmaz"), ("Kim", "kim"), ("Haddad", "haddad"), ("Lindqvist", "lindqvist"),
    ("Fernández", "fernandez"), ("Tanaka", "tanaka"), ("Novák", "novak"), ("Mensah", "mensah"),
    ("van der Berg", "vanderberg"), ("Çelik", "celik"), ("Schröder", "schroder"), ("Zhang", "zhang"),
]
NAME_DECORATIONS = ["", "", "", "", "", " 🦀", " ✨", "🚀 ", " (she/her)", " (he/him)", " 🇺🇦", " ☕"]
WORDS = [
    "pixel", "rust", "cloud", "byte", "neon", "quantum", "coffee", "lambda", "vector", "async",
    "docker", "kernel", "ninja", "panda", "otter", "forest", "rocket", "matrix", "cipher", "nova",
    "orbit", "delta", "sigma", "atlas", "echo", "fjord", "tundra", "ember", "comet", "prism",
    "yak", "koala", "tofu", "mango", "pine", "maple", "cobalt", "onyx", "zephyr", "glitch",
]
ORG_SUFFIXES = ["labs", "hq", "dev", "io", "team", "org", "foundation", "oss", "works", "collective"]
ORG_NAMES = [
    "{W} Labs", "The {W} Project", "{W} Foundation", "Ñandú {W} 🦤", "{W} Software GmbH",
    "{W}株式会社", "{W} Collective ✊", "Open {W}", "{W} & Friends",
]
COMPANIES = [
    "GitHub", "Microsoft", "Freelance", "Université Paris-Saclay", "株式会社ゆめみ", "Shopify",
    "Self-employed", "Яндекс", "ETH Zürich", "Mercado Libre", "Stealth startup 🤫", "Google",
    "Universidad de Buenos Aires", "Independent", "Red Hat", "Zalando SE",
]
LOCATIONS = [
    "Berlin, Germany", "São Paulo, Brasil", "東京都", "Москва", "Zürich", "Remote 🌍", "Bengaluru, India",
    "Lagos, Nigeria", "Montréal, QC", "San Francisco, CA", "London", "Kraków, Polska", "Seoul",
    "Ciudad de México", "İstanbul", "Reykjavík", "Earth", "Nairobi, Kenya", "القاهرة", "Sydney, Australia",
]
ROLES = ["Software engineer", "Student", "Data scientist", "SRE", "Indie hacker", "Researcher",
         "Frontend dev", "Maintainer", "Hobbyist", "CTO", "Security researcher", "Designer who codes"]
BIO_TEMPLATES = [
    "{role} at {company}", "Building {thing} 🚀", "I ❤️ {lang}", "{role}.\r\nOpinions are my own.",
    "こんにちは！{lang}エンジニアです", "Ex-{company}. Now doing {thing}.", "🦀🦀🦀", "{lang} | {lang2} | ☕",
    "Open source enthusiast 🌱", "Making {thing} less painful", "Программист. {lang}.", "«{thing}» maintainer",
    "    ", "Currently learning {lang} 📚", "he/him · {role} · {location}",
]
THINGS = ["compilers", "web apps", "databases", "games", "CLIs", "robots", "tiny tools", "ML pipelines",
          "static sites", "Kubernetes operators", "emulators", "bots"]
LANGUAGES = [
    ("JavaScript", 18), ("Python", 17), ("TypeScript", 12), ("Java", 8), ("Go", 6), ("C++", 5),
    ("Rust", 5), ("Ruby", 4), ("PHP", 4), ("C", 4), ("C#", 4), ("Shell", 4), ("HTML", 4), ("CSS", 2),
    ("Kotlin", 2), ("Swift", 2), ("Jupyter Notebook", 3), ("Dart", 1), ("Haskell", 1), ("Elixir", 1),
    ("Vim Script", 1), ("Lua", 1),
]
_LANG_NAMES = [name for name, _ in LANGUAGES]
_REPO_LANGS = [name.lower().replace(" ", "-").replace("+", "p").replace("#", "sharp") for name in _LANG_NAMES]
_LANG_CUM = []
_total = 0
for _name, _weight in LANGUAGES:
    _total += _weight
    _LANG_CUM.append(_total)

REPO_PATTERNS = [
    "{w}", "{w}-{w2}", "{w}-cli", "{w}.js", "py{w}", "{w}-rs", "awesome-{w}", "learning-{lang}",
    "advent-of-code-{year}", "hello-world", "{w}_utils", "my-{w}", "{W}Kit", "{w}-api", "{w}.github.io",
    "dotfiles", "blog", "{w}-bot", "go-{w}", "{w}-{w2}-{w3}", "{W}{W2}",
]
DESCRIPTIONS = [
    "A tiny {w} library for {lang}", "🚀 Blazing fast {w} in {lang}", "Personal website",
    "Dotfiles ⚙️", "My solutions for Advent of Code ⭐", "{lang}用の{w}ツール", "Experimental {w} engine",
    "A curated list of awesome {w} resources 😎", "Bot that posts {w} pictures 🐼", "Playground. Nothing to see here.",
    "Библиотека для работы с {w}", "Fork-friendly template for {thing}", "WIP: {thing} with {lang}",
    "", "Minimal {w} server — zero dependencies",
]
TOPICS = ["python", "cli", "machine-learning", "hacktoberfest", "rust", "awesome-list", "react",
          "dotfiles", "api", "game", "javascript", "typescript", "golang", "docker", "kubernetes",
          "self-hosted", "education", "data-science", "emoji", "terminal"]

#: key -> (name, spdx_id, GitHub's node-id number). "other" is GitHub's "not a known licence".
LICENSES = {
    "mit": ("MIT License", "MIT", 13),
    "apache-2.0": ("Apache License 2.0", "Apache-2.0", 2),
    "gpl-3.0": ("GNU General Public License v3.0", "GPL-3.0", 9),
    "bsd-3-clause": ("BSD 3-Clause \"New\" or \"Revised\" License", "BSD-3-Clause", 5),
    "bsd-2-clause": ("BSD 2-Clause \"Simplified\" License", "BSD-2-Clause", 4),
    "agpl-3.0": ("GNU Affero General Public License v3.0", "AGPL-3.0", 1),
    "mpl-2.0": ("Mozilla Public License 2.0", "MPL-2.0", 14),
    "unlicense": ("The Unlicense", "Unlicense", 15),
    "other": ("Other", "NOASSERTION", 0),
}
_LICENSE_KEYS = list(LICENSES)


# ---------------------------------------------------------------------------------------------
# Identity (used while generating: these are stored)
# ---------------------------------------------------------------------------------------------

def pick(rng, seq):
    """``rng.choice`` without its overhead: generation draws millions of these."""
    return seq[int(rng.random() * len(seq))]


def between(rng, low, high):
    """A uniform integer in ``[low, high]`` (a faster ``rng.randint``)."""
    return low + int(rng.random() * (high - low + 1))


def login(rng, taken, is_org):
    """A fresh login, unique case-insensitively against ``taken`` (which it updates).

    Mixed case on purpose: GitHub logins are case-insensitive, and crawlers that key on the raw
    string get duplicates.
    """
    while True:
        first = pick(rng, FIRST_NAMES)[1]
        last = pick(rng, LAST_NAMES)[1]
        word = pick(rng, WORDS)
        if is_org:
            pattern = between(rng, 0, 2)
            candidate = (
                f"{word}-{pick(rng, ORG_SUFFIXES)}", f"{word}{last}", f"{last.capitalize()}{word.capitalize()}",
            )[pattern]
        else:
            pattern = between(rng, 0, 6)
            candidate = (
                f"{first}{last}", f"{first}-{last}", f"{first}{between(rng, 1, 9999)}",
                f"{first.capitalize()}{last.capitalize()}", f"{first[0]}{last}", f"{word}-{first}",
                f"{word}{between(rng, 1, 999)}",
            )[pattern]
        if candidate.lower() in taken:
            candidate = f"{candidate}{between(rng, 1, 99999)}"
        candidate = candidate[:39].rstrip("-")
        if candidate.lower() not in taken:
            taken.add(candidate.lower())
            return candidate


def repo_names(rng, count=4000):
    """A pool of repository names to draw from (formatting one per repository is too slow)."""
    pool = []
    for _ in range(count):
        w, w2, w3 = pick(rng, WORDS), pick(rng, WORDS), pick(rng, WORDS)
        pool.append(pick(rng, REPO_PATTERNS).format(
            w=w, w2=w2, w3=w3, W=w.capitalize(), W2=w2.capitalize(), lang=pick(rng, _REPO_LANGS),
            year=between(rng, 2015, 2024),
        ))
    return pool


def repo_name(rng, pool, taken):
    """A name from ``pool`` unique case-insensitively against ``taken`` (one owner's names)."""
    name = pick(rng, pool)
    while name.lower() in taken:
        name = f"{pick(rng, pool)}-{between(rng, 2, 999)}"
    taken.add(name.lower())
    return name


# ---------------------------------------------------------------------------------------------
# Derived details (recomputed on demand, never stored)
# ---------------------------------------------------------------------------------------------

def _rng(seed, kind, entity_id):
    return random.Random(f"{seed}:{kind}:{entity_id}")


def _fill(rng, template, **extra):
    w = rng.choice(WORDS)
    return template.format(
        role=rng.choice(ROLES), company=rng.choice(COMPANIES), thing=rng.choice(THINGS),
        lang=_language(rng), lang2=_language(rng), location=rng.choice(LOCATIONS), w=w, **extra,
    )


def _language(rng):
    return rng.choices(_LANG_NAMES, cum_weights=_LANG_CUM)[0]


def user_details(seed, user_id, is_org, created, org_logins):
    """Profile fields of a generated account, as GitHub would serve them (nulls included)."""
    rng = _rng(seed, "user", user_id)
    details = _organisation(rng) if is_org else _person(rng, org_logins)
    # Derived from the id, not the login, so that a rename does not rewrite the rest of a profile.
    handle = f"{rng.choice(WORDS)}{rng.choice(('', '_', '-'))}{rng.randrange(100)}"
    roll = rng.random()
    # GitHub serves "" (not null) when no blog is set.
    details["blog"] = f"https://{handle}.dev" if roll < 0.2 else f"{handle}.example.io" if roll < 0.3 else ""
    details["location"] = rng.choice(LOCATIONS) if rng.random() < 0.5 else None
    details["email"] = f"{handle}@users.example.com" if rng.random() < 0.15 else None
    details["bio"] = _fill(rng, rng.choice(BIO_TEMPLATES)) if rng.random() < (0.5 if is_org else 0.38) else None
    details["twitter_username"] = handle.replace("-", "_") if rng.random() < 0.14 else None
    gists = int(rng.paretovariate(1.4)) - 1 if rng.random() < 0.45 else 0
    details["public_gists"] = 0 if is_org else gists  # GitHub's gists belong to users: an organisation has none
    details["created_at"] = iso(created)
    details["updated_at"] = iso(rng.randint(created, WORLD_NOW))
    return details


def _organisation(rng):
    name = rng.choice(ORG_NAMES).format(W=rng.choice(WORDS).capitalize()) if rng.random() < 0.85 else None
    return {"name": name, "company": None, "hireable": None}


def _person(rng, org_logins):
    first, last = rng.choice(FIRST_NAMES)[0], rng.choice(LAST_NAMES)[0]
    roll = rng.random()
    if roll < 0.28:
        name = None
    elif roll < 0.33:
        name = first  # a single word, or a CJK given name alone
    else:
        decoration = rng.choice(NAME_DECORATIONS)
        name = f"{decoration}{first} {last}" if decoration.endswith(" ") else f"{first} {last}{decoration}"
    roll = rng.random()
    if roll < 0.12 and org_logins:
        company = "@" + rng.choice(org_logins)
    else:
        company = rng.choice(COMPANIES) if roll < 0.32 else None
    return {"name": name, "company": company, "hireable": True if rng.random() < 0.18 else None}


def repo_details(seed, repo_id, created, source_id):
    """Details of a generated repository; forks inherit description, language and licence."""
    rng = _rng(seed, "repo", repo_id)
    origin = _rng(seed, "repo", source_id) if source_id is not None else rng
    description = _fill(origin, origin.choice(DESCRIPTIONS)) if origin.random() < 0.72 else None
    language = _language(origin) if origin.random() < 0.86 else None
    license_key = origin.choice(_LICENSE_KEYS) if origin.random() < 0.5 else None
    homepage = f"https://{pick(rng, WORDS)}.example.org" if rng.random() < 0.18 else None
    topics = sorted(set(rng.sample(TOPICS, rng.randint(1, 5)))) if rng.random() < 0.3 else []
    pushed = rng.randint(created, WORLD_NOW)
    updated = rng.randint(pushed, WORLD_NOW)
    archived = rng.random() < 0.06
    return {
        "description": description, "homepage": homepage, "language": language, "topics": topics,
        "license": license_key, "archived": archived, "disabled": rng.random() < 0.002,
        "has_issues": rng.random() < 0.92, "has_projects": rng.random() < 0.85, "has_wiki": rng.random() < 0.8,
        "has_pages": rng.random() < 0.08, "has_downloads": True, "has_discussions": rng.random() < 0.04,
        "is_template": rng.random() < 0.01,
        "default_branch": rng.choices(("main", "master", "develop"), (60, 38, 2))[0],
        "open_issues_count": int(rng.paretovariate(1.2)) - 1 if rng.random() < 0.4 else 0,
        "size": int(rng.paretovariate(0.9) * 40), "subscribers_count": int(rng.paretovariate(1.5)),
        "created_at": iso(created), "updated_at": iso(updated), "pushed_at": iso(pushed),
    }
