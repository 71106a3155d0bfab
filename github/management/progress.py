"""The progress line of `crawl`: its own developers synced, requests and ETA, then the crawl's status."""
import time

from github.status import ProgressReport


class Progress:
    """Redraws one status line on a terminal; prints a line per change, with the time, elsewhere (logs, pipes).

    Written to stderr (stdout stays for the result) in the terminal's normal colours: Django would colour
    stderr as errors.
    """

    def __init__(self, stream, total: int):
        self.stream = stream
        self.stream.style_func = None
        self.total = total
        self.started = time.monotonic()
        self.interactive = stream.isatty()
        # The crawl works in this process, not through workers: no "nothing is happening" reasons.
        self.report = ProgressReport(idle_reasons=False)
        self.last_text = None

    def line(self, done: int, requests: int, note: str = "") -> str:
        """The status text: a bar, this crawl's counts and time left at its rate so far, the crawl's status."""
        width = 24
        filled = int(width * done / self.total) if self.total else width
        elapsed = time.monotonic() - self.started
        eta = elapsed / done * (self.total - done) if done else None
        eta_text = time.strftime("%H:%M:%S", time.gmtime(eta)) if eta is not None else "--:--:--"
        status = self.report.line(note=note) or self.report.last_line
        return (f"[{'#' * filled}{'.' * (width - filled)}] {done}/{self.total} developers synced, {requests} requests, "
                f"ETA {eta_text}; {status}")

    def update(self, done: int, requests: int, note: str = "") -> None:
        """Show the current state, unless it is what the last line said."""
        text = self.line(done, requests, note)
        if text == self.last_text:
            return
        self.last_text = text
        if self.interactive:
            self.stream.write(f"\r\x1b[2K{text}", ending="")
            self.stream.flush()
        else:
            self.stream.write(f"{time.strftime('%H:%M:%S')} {text}")

    def finish(self) -> None:
        """End the redrawn line."""
        if self.interactive:
            self.stream.write("")
