"""The full-page world of benchmarks/worker_throughput.py really is full pages: each hub's two lists are whole
multiples of GitHub's 100-item page, and nothing else costs a request beyond the profile and two empty lists."""
import json

from benchmarks.worker_throughput import full_page_world
from github_simulator import World


def test_full_page_world_hubs_have_lists_of_full_pages(tmp_path):
    path = tmp_path / "world.json"
    hubs = full_page_world(path, users=1_000, hubs=3, size=300)
    world = World.from_dict(json.loads(path.read_text(encoding="utf-8")))
    assert hubs == ["member0", "member1", "member2"]
    for hub in hubs:
        assert len(world.followers_of(hub)) == len(world.following_of(hub)) == 300
        assert world.starred_by(hub) == [] and world.repos_of(hub) == []
