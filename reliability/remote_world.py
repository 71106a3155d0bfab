"""The simulator's ground truth over its HTTP control API, for a simulator in another process."""
import requests


class RemoteWorld:
    """The World methods check_against_world needs, answered by POST /_simulator/world/<method>."""

    def __init__(self, base_url: str):
        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()

    def _call(self, method, *args):
        response = self.session.post(f"{self.base_url}/_simulator/world/{method}", json=list(args), timeout=30)
        response.raise_for_status()
        return response.json()["result"]

    def followers_of(self, login):
        """Logins following `login`."""
        return self._call("followers_of", login)

    def following_of(self, login):
        """Logins `login` follows."""
        return self._call("following_of", login)

    def starred_by(self, login):
        """Full names of the repositories `login` starred."""
        return self._call("starred_by", login)

    def repos_of(self, login):
        """Full names of the public repositories `login` owns."""
        return self._call("repos_of", login)

    def stargazers_of(self, full_name):
        """Logins who starred `full_name`."""
        return self._call("stargazers_of", full_name)

    def logins(self):
        """Every live login, in id order."""
        return self._call("logins")
