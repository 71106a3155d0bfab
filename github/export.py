"""Graph export: developers and/or repositories as nodes, follows and stars as edges, in the formats graph and
table tools read (GraphML, GEXF, a zip of Gephi CSV tables, a zip of Parquet tables, JSON Lines).

Streamed with constant memory whatever the graph's size: rows come from server-side cursors
(`.iterator(chunk_size=...)`) inside one transaction (REPEATABLE READ on PostgreSQL, so nodes and edges are
one snapshot), each row is written as it comes, and `Export.chunks()` hands the bytes out as they fill a small
buffer; zip members are written with data descriptors and Parquet in row groups, so neither needs the whole
file. No graph object is ever built.

GraphML and GEXF are written here rather than with networkx, whose writers build the whole graph in memory
first. XML 1.0 cannot carry the control characters U+0000-U+001F other than tab, newline and carriage return
(nor U+FFFE, U+FFFF): in those two formats each of them becomes U+FFFD (the replacement character); tab,
newline and carriage return are written as character references where a parser would otherwise normalise
them. CSV, Parquet and JSON Lines carry every character as stored.
"""
import csv
import gzip
import io
import json
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.parquet as pq
from django.db import connection
from django.db.models import Q, TextField
from django.db.models.functions import Cast

from github.api.filters import RANK, DeveloperFilter, RepositoryFilter
from github.models import Developer, Follow, Repository, Star
from github.selectors import consistent_snapshot

CHUNK_ROWS = 5_000  # rows per server-side cursor fetch
FLUSH_BYTES = 1 << 16  # bytes buffered before chunks() hands them out
PARQUET_ROWS = 10_000  # rows per Parquet row group (the batch of Python values is most of its memory)
REPOSITORY_PREFIX = "repository."


# --- what goes in: columns ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """One attribute of a node or edge: its name, type (string, long, double, boolean, datetime) and source."""

    name: str
    type: str
    source: str = ""  # the model field read; the name when empty
    convert: object = None  # applied to the stored value

    @property
    def field(self):
        """The model field this column is read from."""
        return self.source or self.name


def _topics(value):
    return ",".join(value) if value else None


DEVELOPER_COLUMNS = [
    Column("github_id", "long"), Column("login", "string"), Column("type", "string"), Column("name", "string"),
    Column("location", "string"), Column("bio", "string"), Column("company", "string"), Column("email", "string"),
    Column("blog", "string"), Column("twitter_username", "string"), Column("created_at", "datetime"),
    Column("updated_at", "datetime"), Column("followers_count", "long"), Column("following_count", "long"),
    Column("public_gists", "long"), Column("public_repos", "long"), Column("rank", "double", RANK),
    Column("profiled", "boolean", "profiled_at", lambda value: value is not None),
    Column("synced", "boolean", "profile_synced_at", lambda value: value is not None),
]
REPOSITORY_COLUMNS = [
    Column("github_id", "long"), Column("full_name", "string"), Column("name", "string"),
    Column("owner_github_id", "long"), Column("description", "string"), Column("homepage", "string"),
    Column("language", "string"), Column("created_at", "datetime"), Column("updated_at", "datetime"),
    Column("pushed_at", "datetime"), Column("fork", "boolean"), Column("archived", "boolean"),
    Column("stargazers_count", "long"), Column("forks_count", "long"), Column("watchers_count", "long"),
    Column("open_issues_count", "long"), Column("subscribers_count", "long"), Column("topics", "string", "",
                                                                                      _topics),
    Column("license", "string"), Column("rank", "double", RANK),
]
# Edges: Source and Target are node ids; Type is Gephi's (every edge here is directed); kind says which edge.
EDGE_COLUMNS = [Column("kind", "string"), Column("first_seen_at", "datetime")]


@dataclass(frozen=True)
class NodeKind:
    """Developers or repositories as nodes: the model, the label field and the columns."""

    name: str
    model: type
    label: str
    columns: list


DEVELOPERS = NodeKind("developer", Developer, "login", DEVELOPER_COLUMNS)
REPOSITORIES = NodeKind("repository", Repository, "full_name", REPOSITORY_COLUMNS)
NODE_CHOICES = {"developers": [DEVELOPERS], "repositories": [REPOSITORIES], "both": [DEVELOPERS, REPOSITORIES]}


# --- what goes in: the parameters -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Format:
    """An output format: its content type, file extension and writer; `gzip` when compressing it helps."""

    content_type: str
    extension: str
    writer: str
    gzip: bool


FORMATS = {
    "graphml": Format("application/graphml+xml", "graphml", "GraphMLWriter", True),
    "gexf": Format("application/gexf+xml", "gexf", "GEXFWriter", True),
    "csv": Format("application/zip", "csv.zip", "CSVZipWriter", False),
    "parquet": Format("application/zip", "parquet.zip", "ParquetZipWriter", False),
    "jsonl": Format("application/x-ndjson", "jsonl", "JSONLinesWriter", True),
}
CHOICES = {"nodes": list(NODE_CHOICES), "edges": ["induced", "incident"], "stubs": ["true", "false"],
           "gzip": ["true", "false"]}
DEFAULTS = {"format": "graphml", "nodes": "developers", "edges": "induced", "stubs": "true", "gzip": "false"}


class ExportParameterError(ValueError):
    """Bad export parameters: `errors` maps each bad parameter to its messages."""

    def __init__(self, errors):
        super().__init__(errors)
        self.errors = errors


def parse(params: Mapping) -> "Export":
    """The export `params` (a query string's values) ask for; ExportParameterError names every bad one.

    Besides format, nodes, edges, stubs and gzip, the list endpoints' filters choose the nodes: unprefixed
    they filter the first kind of node (developers unless nodes=repositories), and with nodes=both, filters
    prefixed `repository.` filter the repositories.
    """
    errors = {}
    values = {name: params.get(name, default) for name, default in DEFAULTS.items()}
    for name, value in values.items():
        allowed = list(FORMATS) if name == "format" else CHOICES[name]
        if value not in allowed:
            errors[name] = [f"Choose one of {', '.join(allowed)}, not {value!r}."]
            values[name] = DEFAULTS[name]  # to check the other parameters as well
    if values["gzip"] == "true" and not FORMATS[values["format"]].gzip:
        errors["gzip"] = [f"format={values['format']} is a zip of compressed tables already."]
    kinds = NODE_CHOICES[values["nodes"]]
    filter_classes = {"": DeveloperFilter if kinds[0] is DEVELOPERS else RepositoryFilter}
    if len(kinds) == 2:
        filter_classes[REPOSITORY_PREFIX] = RepositoryFilter
    data = {prefix: {} for prefix in filter_classes}
    for name in params:
        if name in DEFAULTS:
            continue
        prefix = REPOSITORY_PREFIX if name.startswith(REPOSITORY_PREFIX) else ""
        known = filter_classes.get(prefix)
        if known is None or name[len(prefix):] not in known.base_filters:
            errors[name] = ["Unknown parameter." if prefix == "" or known else
                            "Repository filters need nodes=both (or nodes=repositories, unprefixed)."]
            continue
        data[prefix][name[len(prefix):]] = params.get(name)
    filtersets = {}
    for prefix, filter_class in filter_classes.items():
        queryset = filter_class.Meta.model.objects.all()
        if filter_class is DeveloperFilter and values["stubs"] == "false":
            queryset = queryset.filter(profile_synced_at__isnull=False)
        filtersets[prefix] = filter_class(data=data[prefix], queryset=queryset)
        if not filtersets[prefix].is_valid():
            errors.update({prefix + name: messages for name, messages in filtersets[prefix].errors.items()})
    if errors:
        raise ExportParameterError(errors)
    chosen = {kinds[0].name: (filtersets[""].qs, bool(data[""]))}
    if len(kinds) == 2:
        chosen[REPOSITORIES.name] = (filtersets[REPOSITORY_PREFIX].qs, bool(data[REPOSITORY_PREFIX]))
    return Export(FORMATS[values["format"]], kinds, values["edges"] == "incident", values["stubs"] == "true",
                  values["gzip"] == "true", chosen)


# --- the subgraph ---------------------------------------------------------------------------------------------


def _id_fields(*fields):
    """uuid columns to read as ids: as text on PostgreSQL (psycopg2 would build a uuid.UUID per value only for
    str() to format it back); SQLite stores them as hex without dashes, so there Django converts them."""
    if connection.vendor == "postgresql":
        return [Cast(name, TextField()) for name in fields]
    return list(fields)


def _within(column, queryset):
    """`column` among the rows of `queryset`; None stands for every row (no condition at all)."""
    return Q() if queryset is None else Q(**{f"{column}__in": queryset.values("pk")})


@dataclass
class Export:  # pylint: disable=too-many-instance-attributes
    """One export: which nodes and edges, in which format; chunks() streams it."""

    format: Format
    kinds: list
    incident: bool
    stubs: bool
    gzip: bool
    chosen: dict  # node kind name -> (queryset, filtered?)
    created: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def filename(self):
        """The file name a download is saved under."""
        return f"github-graph-{self.created:%Y%m%d-%H%M%S}.{self.format.extension}" + (".gz" if self.gzip else "")

    @property
    def content_type(self):
        """The response's content type."""
        return "application/gzip" if self.gzip else self.format.content_type

    def _selected(self, kind):
        """The chosen nodes of `kind`: None when they are every row of its table (nothing to filter)."""
        if kind.name not in self.chosen:
            return kind.model.objects.none()
        queryset, filtered = self.chosen[kind.name]
        return queryset if filtered or (kind is DEVELOPERS and not self.stubs) else None

    def _universe(self, kind):
        """Every node of `kind` an edge may reach (stubs left out when asked), None for the whole table."""
        if kind is DEVELOPERS and not self.stubs:
            return Developer.objects.filter(profile_synced_at__isnull=False)
        return None

    def _follows(self):
        """The follow edges in the file (None without developer nodes)."""
        if DEVELOPERS not in self.kinds:
            return None
        chosen, universe = self._selected(DEVELOPERS), self._universe(DEVELOPERS)
        if not self.incident or chosen is None:  # chosen is None: every developer is chosen, universe is None
            return Follow.objects.filter(_within("follower", chosen) & _within("followee", chosen))
        return Follow.objects.filter(
            (_within("follower", chosen) & _within("followee", universe))
            | (_within("followee", chosen) & _within("follower", universe)))

    def _stars(self):
        """The star edges in the file (None without repository nodes, or with repositories alone, induced)."""
        if REPOSITORIES not in self.kinds or (DEVELOPERS not in self.kinds and not self.incident):
            return None
        developers, repositories = self._selected(DEVELOPERS), self._selected(REPOSITORIES)
        if not self.incident:
            return Star.objects.filter(_within("developer", developers) & _within("repository", repositories))
        universe = _within("developer", self._universe(DEVELOPERS))
        if developers is None or repositories is None:  # every node of one side is chosen: every star is in
            return Star.objects.filter(universe)
        return Star.objects.filter((_within("developer", developers) | _within("repository", repositories))
                                   & universe)

    def node_kinds(self):
        """The kinds of node in the file: those asked for, and developers as stargazers of incident stars."""
        if self.incident and DEVELOPERS not in self.kinds:
            return [DEVELOPERS, *self.kinds]
        return self.kinds

    def node_querysets(self):
        """(kind, queryset) of the nodes: the chosen ones, and with edges=incident the other ends too."""
        follows, stars = self._follows(), self._stars()
        ends = {DEVELOPERS.name: [(follows, "follower"), (follows, "followee"), (stars, "developer")],
                REPOSITORIES.name: [(stars, "repository")]}
        result = []
        for kind in self.node_kinds():
            chosen, universe = self._selected(kind), self._universe(kind)
            if chosen is None:
                nodes = kind.model.objects.all() if universe is None else universe
            elif not self.incident:
                nodes = chosen
            else:
                condition = Q(pk__in=chosen.values("pk"))
                for edges, column in ends[kind.name]:
                    if edges is not None:
                        condition |= Q(pk__in=edges.values(column))
                nodes = kind.model.objects.filter(condition)
            result.append((kind, nodes.order_by("github_id")))
        return result

    def edge_querysets(self):
        """(kind, queryset, source field, target field) of the edges."""
        result = []
        if (follows := self._follows()) is not None:
            result.append(("follow", follows.order_by(), "follower_id", "followee_id"))
        if (stars := self._stars()) is not None:
            result.append(("star", stars.order_by(), "developer_id", "repository_id"))
        return result

    def node_columns(self):
        """Every node column of the kinds in the file, each once, in order; `kind` first when there are two."""
        kinds = [kind for kind, _queryset in self.node_querysets()]
        columns = [Column("kind", "string")] if len(kinds) > 1 else []
        for kind in kinds:
            columns += [column for column in kind.columns if column.name not in {c.name for c in columns}]
        return columns

    def counts(self):
        """(nodes, edges) the export will write: two COUNT queries per kind, for a progress bar."""
        return (sum(queryset.count() for _kind, queryset in self.node_querysets()),
                sum(queryset.count() for _kind, queryset, _source, _target in self.edge_querysets()))

    def nodes(self, columns):
        """(id, label, values aligned with `columns`) of every node, from server-side cursors."""
        for kind, queryset in self.node_querysets():
            own = {column.name: (index + 2, column.convert) for index, column in enumerate(kind.columns)}
            # Per column: the row position to read (None: the column is the other kind's) and its conversion.
            plan = [own.get(column.name, (None, None)) for column in columns]
            kind_position = next((index for index, column in enumerate(columns) if column.name == "kind"), None)
            fields = [*_id_fields("pk"), kind.label, *(column.field for column in kind.columns)]
            for row in queryset.values_list(*fields).iterator(chunk_size=CHUNK_ROWS):
                values = [None if position is None else convert(row[position]) if convert else row[position]
                          for position, convert in plan]
                if kind_position is not None:
                    values[kind_position] = kind.name
                yield str(row[0]), row[1], values

    def edges(self):
        """(source id, target id, [kind, first_seen_at]) of every edge, from server-side cursors."""
        for kind, queryset, source, target in self.edge_querysets():
            for source_id, target_id, first_seen_at in queryset.values_list(*_id_fields(source, target),
                                                                            "first_seen_at") \
                    .iterator(chunk_size=CHUNK_ROWS):
                yield str(source_id), str(target_id), [kind, first_seen_at]

    def chunks(self, progress=None) -> Iterator[bytes]:
        """The file, as byte strings of about FLUSH_BYTES; `progress(rows)` is called as rows are written."""
        sink = Sink()
        out = gzip.GzipFile(fileobj=sink, mode="wb", mtime=0) if self.gzip else sink
        writer = globals()[self.format.writer](out)
        with consistent_snapshot():
            columns = self.node_columns()
            written = 0
            for _ in writer.write(columns, self.nodes(columns), self.edges()):
                written += 1
                if sink.size >= FLUSH_BYTES:
                    if progress:
                        progress(written)
                        written = 0
                    yield sink.drain()
        if self.gzip:
            out.close()
        if progress:
            progress(written)
        yield sink.drain()


class Sink(io.RawIOBase):
    """A write-only stream that keeps what was written until drained; tell() but no seek(), so zipfile writes
    its members with data descriptors (no going back to patch sizes)."""

    def __init__(self):
        super().__init__()
        self._parts = []
        self._size = 0
        self._position = 0

    def writable(self):
        return True

    def write(self, data):
        self._parts.append(bytes(data))
        self._size += len(data)
        self._position += len(data)
        return len(data)

    def tell(self):
        return self._position

    def seekable(self):
        return False

    @property
    def size(self):
        """Bytes written since the last drain (not __len__: zipfile tests its file for truth)."""
        return self._size

    def drain(self):
        """Everything written since the last drain."""
        data = b"".join(self._parts)
        self._parts, self._size = [], 0
        return data


# --- the formats -------------------------------------------------------------------------------------------------


def text(value):
    """A value as the text formats write it: ISO 8601 dates, true/false, shortest exact floats; None as ''."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


_NOT_IN_XML = {code: "\ufffd" for code in [*range(0x20), 0xFFFE, 0xFFFF] if code not in (0x09, 0x0A, 0x0D)}
XML_TEXT = str.maketrans({**_NOT_IN_XML, "&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"})
XML_ATTRIBUTE = str.maketrans({**_NOT_IN_XML, "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;",
                               "\r": "&#13;", "\n": "&#10;", "\t": "&#9;"})


# Attribute types of GraphML and GEXF (the same names in both); dates are ISO 8601 strings.
XML_TYPES = {"string": "string", "long": "long", "double": "double", "boolean": "boolean", "datetime": "string"}


class TextWriter:
    """A writer of text through a UTF-8 wrapper around the output stream."""

    def __init__(self, out):
        self.out = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=False)

    def close(self):
        """Flush the text and leave the output stream open."""
        self.out.flush()
        self.out.detach()


class GraphMLWriter(TextWriter):
    """GraphML: keys declared first, one <node> and one <edge> element per row; values as element text."""

    def write(self, columns, nodes, edges):
        """Write the document, yielding after each row."""
        write = self.out.write
        write('<?xml version="1.0" encoding="UTF-8"?>\n<graphml xmlns="http://graphml.graphdrawing.org/xmlns">\n'
              '<key id="label" for="node" attr.name="label" attr.type="string"/>\n')
        for index, column in enumerate(columns):
            write(f'<key id="n{index}" for="node" attr.name="{column.name}" '
                  f'attr.type="{XML_TYPES[column.type]}"/>\n')
        for index, column in enumerate(EDGE_COLUMNS):
            write(f'<key id="e{index}" for="edge" attr.name="{column.name}" '
                  f'attr.type="{XML_TYPES[column.type]}"/>\n')
        write('<graph id="github" edgedefault="directed">\n')
        for node_id, label, values in nodes:
            write(f'<node id="{node_id}"><data key="label">{text(label).translate(XML_TEXT)}</data>'
                  + "".join(f'<data key="n{index}">{text(value).translate(XML_TEXT)}</data>'
                            for index, value in enumerate(values) if value is not None) + "</node>\n")
            yield
        for source, target, values in edges:
            write(f'<edge source="{source}" target="{target}">'
                  + "".join(f'<data key="e{index}">{text(value).translate(XML_TEXT)}</data>'
                            for index, value in enumerate(values) if value is not None) + "</edge>\n")
            yield
        write("</graph>\n</graphml>\n")
        self.close()


class GEXFWriter(TextWriter):
    """GEXF 1.2: attributes declared first, then <nodes> and <edges>; values in attributes."""

    def write(self, columns, nodes, edges):
        """Write the document, yielding after each row."""
        write = self.out.write
        write('<?xml version="1.0" encoding="UTF-8"?>\n<gexf xmlns="http://www.gexf.net/1.2draft" version="1.2">\n'
              '<meta><creator>git-o-matic-9k</creator></meta>\n<graph defaultedgetype="directed" mode="static">\n')
        for kind, declared in (("node", columns), ("edge", EDGE_COLUMNS)):
            write(f'<attributes class="{kind}" mode="static">\n')
            for index, column in enumerate(declared):
                write(f'<attribute id="{index}" title="{column.name}" type="{XML_TYPES[column.type]}"/>\n')
            write("</attributes>\n")
        write("<nodes>\n")
        for node_id, label, values in nodes:
            write(f'<node id="{node_id}" label="{text(label).translate(XML_ATTRIBUTE)}">'
                  f"{self._attvalues(values)}</node>\n")
            yield
        write("</nodes>\n<edges>\n")
        for number, (source, target, values) in enumerate(edges):
            write(f'<edge id="{number}" source="{source}" target="{target}">{self._attvalues(values)}</edge>\n')
            yield
        write("</edges>\n</graph>\n</gexf>\n")
        self.close()

    @staticmethod
    def _attvalues(values):
        return "<attvalues>" + "".join(f'<attvalue for="{index}" value="{text(value).translate(XML_ATTRIBUTE)}"/>'
                                       for index, value in enumerate(values) if value is not None) + "</attvalues>"


class JSONLinesWriter(TextWriter):
    """JSON Lines: one object per node ({"element": "node", "id", "label", columns...}), then one per edge
    ({"element": "edge", "source", "target", "kind", "first_seen_at"})."""

    def write(self, columns, nodes, edges):
        """Write the lines, yielding after each row."""
        names = [column.name for column in columns]
        edge_names = [column.name for column in EDGE_COLUMNS]
        for node_id, label, values in nodes:
            record = {"element": "node", "id": node_id, "label": label, **dict(zip(names, values, strict=True))}
            self.out.write(json.dumps(record, ensure_ascii=False, default=text) + "\n")
            yield
        for source, target, values in edges:
            record = {"element": "edge", "source": source, "target": target,
                      **dict(zip(edge_names, values, strict=True))}
            self.out.write(json.dumps(record, ensure_ascii=False, default=text) + "\n")
            yield
        self.close()


class CSVZipWriter:
    """A zip of nodes.csv (Id, Label, columns...) and edges.csv (Source, Target, Type, kind, first_seen_at):
    the tables Gephi's spreadsheet import reads."""

    def __init__(self, out):
        self.zip = zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED)  # pylint: disable=consider-using-with  # closed by write()

    def _table(self, name):
        return io.TextIOWrapper(self.zip.open(name, "w", force_zip64=True), encoding="utf-8", newline="")

    def write(self, columns, nodes, edges):
        """Write both members, yielding after each row."""
        with self._table("nodes.csv") as member:
            table = csv.writer(member)
            table.writerow(["Id", "Label", *(column.name for column in columns)])
            for node_id, label, values in nodes:
                table.writerow([node_id, label, *map(text, values)])
                yield
        with self._table("edges.csv") as member:
            table = csv.writer(member)
            table.writerow(["Source", "Target", "Type", *(column.name for column in EDGE_COLUMNS)])
            for source, target, values in edges:
                table.writerow([source, target, "Directed", *map(text, values)])
                yield
        self.zip.close()


class ParquetZipWriter:
    """A zip (stored, not deflated: Parquet compresses its columns) of nodes.parquet and edges.parquet, written
    in row groups of PARQUET_ROWS."""

    TYPES = {"string": pa.string(), "long": pa.int64(), "double": pa.float64(), "boolean": pa.bool_(),
             "datetime": pa.timestamp("us", tz="UTC")}

    def __init__(self, out):
        self.zip = zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED)  # pylint: disable=consider-using-with  # closed by write()

    def _member(self, name, head, columns, rows):
        schema = pa.schema([(name, pa.string()) for name in head]
                           + [(column.name, self.TYPES[column.type]) for column in columns])
        with self.zip.open(name, "w", force_zip64=True) as member, pq.ParquetWriter(member, schema) as writer:
            batch = []
            for first, second, values in rows:
                batch.append((first, second, *values))
                if len(batch) == PARQUET_ROWS:
                    writer.write_batch(self._batch(schema, batch))
                    batch = []
                yield
            if batch:
                writer.write_batch(self._batch(schema, batch))

    @staticmethod
    def _batch(schema, rows):
        return pa.record_batch([list(column) for column in zip(*rows, strict=True)] if rows else
                               [[] for _ in schema], schema=schema)

    def write(self, columns, nodes, edges):
        """Write both members, yielding after each row."""
        yield from self._member("nodes.parquet", ["id", "label"], columns, nodes)
        yield from self._member("edges.parquet", ["source", "target"], EDGE_COLUMNS, edges)
        self.zip.close()
