"""`python -m git_o_matic_9k.supervisor Procfile.dev`: the processes of `make run` and `make demo`, stopped by
Ctrl-C as each would be in a terminal of its own.

honcho (whose Procfile parser and output format this reuses) answers Ctrl-C by sending SIGTERM to every process
group and SIGKILL five seconds later, and exits 130: Celery's pool children then die of SIGTERM (logged as an
ERROR), a worker finishing a task is killed, and make reports "Error 130". Here Ctrl-C becomes a SIGINT to each
process group, which is what each program treats as a normal stop (Celery's warm shutdown, runserver's quit),
the wait for them is generous, and a requested stop that every process obeyed exits 0. On a terminal this
process takes the foreground, so make does not see the Ctrl-C either (make dies of it however its recipe ends).

`--ready URL [--ready-text TEXT] --then COMMAND`: once URL's port accepts connections and a process printed TEXT
(the worker's " ready."), COMMAND runs with its output unprefixed: the login block that ends the start-up
(`manage.py ensure_login --url ...`).
"""
import argparse
import contextlib
import datetime
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

from honcho.colour import get_colours
from honcho.environ import parse_procfile
from honcho.printer import Message, Printer

# Seconds the processes get to stop after Ctrl-C (a worker finishes its task first) before they are killed.
STOP_GRACE_SECONDS = 60
READY_TIMEOUT_SECONDS = 300


class Supervisor:
    """Starts every process of a Procfile, relays their output with a name prefix, stops them together."""

    def __init__(self, procfile: str, printer: Printer, ready_text: str = ""):
        self.commands = parse_procfile(Path(procfile).read_text(encoding="utf-8")).processes
        self.printer = printer
        self.printer.width = max(map(len, self.commands))
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.children: dict[str, subprocess.Popen] = {}
        self.ready_text = ready_text
        self.text_seen = threading.Event()
        if not ready_text:
            self.text_seen.set()

    def say(self, name: str, text: str, colour=None) -> None:
        """Print lines of one process (or of the supervisor, `name` "")."""
        with self.lock:
            self.printer.write(Message("line", text, datetime.datetime.now(), name, colour))
            self.printer.output.flush()

    def start(self) -> None:
        """Start every process in a session of its own: the terminal's signals reach only this supervisor."""
        for (name, command), colour in zip(self.commands.items(), get_colours(), strict=False):
            # A Procfile's commands are shell lines (variables, defaults) written by this repository.
            # Waited for in wait(), not in a with block.  pylint: disable-next=consider-using-with
            child = subprocess.Popen(command, shell=True, stdout=subprocess.PIPE,  # noqa: S602
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
            self.children[name] = child
            self.say(name, f"started with pid {child.pid}\n", colour)
            threading.Thread(target=self._relay, args=(name, child, colour), daemon=True).start()

    def _relay(self, name, child, colour):
        for line in iter(child.stdout.readline, b""):
            text = line.decode("utf-8", "replace")
            self.say(name, text, colour)
            if self.ready_text and self.ready_text in text:
                self.text_seen.set()

    def stop(self, *_signal) -> None:
        """Ask every running process to stop, as Ctrl-C in its own terminal would."""
        self.stopping.set()
        for child in self.children.values():
            if child.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(child.pid, signal.SIGINT)

    def wait(self) -> int:
        """Run until a stop is asked for or a process ends by itself; 0 when every process stopped as asked."""
        ended = []
        while not self.stopping.is_set():
            ended = [name for name, child in self.children.items() if child.poll() is not None]
            if ended:
                self.say("", f"{ended[0]} exited with status {self.children[ended[0]].returncode}: "
                             "stopping the others\n")
                self.stop()
                break
            self.stopping.wait(0.2)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for name, child in self.children.items():
            try:
                child.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.say("", f"{name} did not stop within {STOP_GRACE_SECONDS} s: killing it\n")
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(child.pid, signal.SIGKILL)
                child.wait()
        clean = {0, -signal.SIGINT, 128 + signal.SIGINT}
        return 0 if all(child.returncode in clean for child in self.children.values()) and not ended else 1

    def when_ready(self, url: str, command: str) -> None:
        """Run `command` (output unprefixed, under the output lock) once `url`'s port accepts a connection and the
        text was seen. A connection, not a request: runserver would log the request after the block."""
        address = urllib.parse.urlsplit(url)
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while not self.stopping.is_set() and time.monotonic() < deadline:
            if not self.text_seen.wait(0.5):
                continue
            try:
                socket.create_connection((address.hostname, address.port or 80), timeout=2).close()
            except OSError:
                time.sleep(0.5)
                continue
            with self.lock:
                # The Makefile's command; in a session of its own, so an early Ctrl-C does not interrupt it.
                subprocess.run(command, shell=True, check=False, stdin=subprocess.DEVNULL,  # noqa: S602
                               start_new_session=True)
            return


@contextlib.contextmanager
def foreground():
    """Take the terminal's foreground (when this process has it, as under make), so that Ctrl-C reaches this
    process group only; started in the background, it leaves the terminal alone."""
    try:
        tty = os.open("/dev/tty", os.O_RDWR)
    except OSError:
        yield
        return
    previous = os.tcgetpgrp(tty)
    if previous != os.getpgrp():
        os.close(tty)
        yield
        return
    signal.signal(signal.SIGTTOU, signal.SIG_IGN)  # a background group may then take the terminal
    os.setpgid(0, 0)
    os.tcsetpgrp(tty, os.getpgrp())
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            os.tcsetpgrp(tty, previous)
        os.close(tty)


def main(argv=None) -> int:
    """Run the Procfile until Ctrl-C (or SIGTERM), then stop every process."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("procfile")
    parser.add_argument("--ready", metavar="URL", help="run --then once this URL answers")
    parser.add_argument("--ready-text", default="", metavar="TEXT", help="and once a process printed this")
    parser.add_argument("--then", metavar="COMMAND", help="command to run once ready")
    args = parser.parse_args(argv)
    supervisor = Supervisor(args.procfile, Printer(sys.stdout), args.ready_text)
    with foreground():
        signal.signal(signal.SIGINT, supervisor.stop)
        signal.signal(signal.SIGTERM, supervisor.stop)
        supervisor.start()
        if args.ready and args.then:
            threading.Thread(target=supervisor.when_ready, args=(args.ready, args.then), daemon=True).start()
        status = supervisor.wait()
    supervisor.say("", "stopped\n" if status == 0 else "stopped, not cleanly (see above)\n")
    return status


if __name__ == "__main__":
    sys.exit(main())
