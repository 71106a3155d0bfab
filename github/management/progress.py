"""A one-line progress display for the foreground commands: developers synced, requests, quota left, ETA."""
import time


class Progress:
    """Redraws one status line on a terminal; prints a line per update elsewhere (logs, pipes)."""

    def __init__(self, stream, total: int):
        self.stream = stream
        self.total = total
        self.started = time.monotonic()
        self.interactive = stream.isatty()

    def line(self, done: int, requests: int, quota_left: int, note: str = "") -> str:
        """The status text: a bar, counts, and the time left at the rate so far."""
        width = 24
        filled = int(width * done / self.total) if self.total else width
        elapsed = time.monotonic() - self.started
        eta = elapsed / done * (self.total - done) if done else None
        eta_text = time.strftime("%H:%M:%S", time.gmtime(eta)) if eta is not None else "--:--:--"
        text = (f"[{'#' * filled}{'.' * (width - filled)}] {done}/{self.total} developers  "
                f"{requests} requests  quota left {quota_left}  ETA {eta_text}")
        return f"{text}  {note}" if note else text

    def update(self, done: int, requests: int, quota_left: int, note: str = "") -> None:
        """Show the current state."""
        text = self.line(done, requests, quota_left, note)
        if self.interactive:
            self.stream.write(f"\r\x1b[2K{text}", ending="")
            self.stream.flush()
        else:
            self.stream.write(text)

    def finish(self) -> None:
        """End the redrawn line."""
        if self.interactive:
            self.stream.write("")
