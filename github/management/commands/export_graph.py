"""`manage.py export_graph`: what GET /github/export/ streams, written to a file (or stdout) in the foreground."""
import sys
from contextlib import nullcontext

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from github import export
from github.management.errors import one_line_errors


class Command(BaseCommand):
    """Export the graph, or the subgraph the filters choose; a progress bar on a terminal, quiet otherwise."""

    requires_system_checks = []  # a long read of the data: the checks add seconds and check nothing it uses
    help = ("Export developers and/or repositories and their follow and star edges as GraphML, GEXF, a zip of "
            "Gephi CSV tables, a zip of Parquet tables or JSON Lines. Filters are the list endpoints', as "
            "NAME=VALUE (e.g. location__icontains=berlin followers_count__gte=100).")

    def add_arguments(self, parser):
        parser.add_argument("filters", nargs="*", metavar="NAME=VALUE", help="a filter of the list endpoints")
        parser.add_argument("--format", default=export.DEFAULTS["format"], help=", ".join(export.FORMATS))
        parser.add_argument("--nodes", default=export.DEFAULTS["nodes"], help=", ".join(export.CHOICES["nodes"]))
        parser.add_argument("--edges", default=export.DEFAULTS["edges"], help="induced (among the chosen nodes) "
                            "or incident (with at least one end among them)")
        parser.add_argument("--no-stubs", action="store_true", help="leave out developers whose profile is unread")
        parser.add_argument("--gzip", action="store_true", help="gzip the file (graphml, gexf, jsonl)")
        parser.add_argument("-o", "--output", help="the file to write (- for stdout); default: a dated name "
                            "in the current directory")

    @staticmethod
    def parameters(options):
        """The query string GET /github/export/ would take for these options."""
        params = {"format": options["format"], "nodes": options["nodes"], "edges": options["edges"],
                  "stubs": "false" if options["no_stubs"] else "true", "gzip": "true" if options["gzip"] else "false"}
        for item in options["filters"]:
            name, equals, value = item.partition("=")
            if not equals:
                raise CommandError(f"Filters are NAME=VALUE, not {item!r}.")
            params[name] = value
        return params

    def handle(self, *args, **options):
        try:
            chosen = export.parse(self.parameters(options))
        except export.ExportParameterError as error:
            raise CommandError("; ".join(f"{name}: {' '.join(map(str, messages))}"
                                         for name, messages in error.errors.items())) from error
        path = options["output"] or chosen.filename
        interactive = self.stderr.isatty()
        with one_line_errors(), (nullcontext(sys.stdout.buffer) if path == "-" else open(path, "wb")) as file, \
                tqdm(total=sum(chosen.counts()) if interactive else None, disable=not interactive, unit=" rows",
                     unit_scale=True, desc=path, file=self.stderr._out) as progress:  # pylint: disable=protected-access
            for chunk in chosen.chunks(progress=progress.update):
                file.write(chunk)
        if interactive and path != "-":
            self.stderr.write(f"wrote {path}")
