"""GET /github/export/: the graph, or the subgraph the list endpoints' filters choose, as a streamed file."""
from django.http import StreamingHttpResponse
from rest_framework.exceptions import ValidationError
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.views import APIView

from github import export


class JSONErrorsNegotiation(DefaultContentNegotiation):
    """`format` names the export's format here, not a renderer: errors are always JSON."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class ExportView(APIView):
    """The graph as GraphML, GEXF, a zip of Gephi CSV tables, a zip of Parquet tables or JSON Lines (see README).

    Parameters: format, nodes (developers, repositories, both), edges (induced, incident), stubs, gzip, and the
    filters of /github/developers/ (or /github/repositories/; `repository.` prefixed with nodes=both).
    """

    content_negotiation_class = JSONErrorsNegotiation
    swagger_schema = None  # a file, not JSON: documented in the README

    def get(self, request):
        """Stream the export the query string asks for; 400 naming every bad parameter."""
        try:
            chosen = export.parse(request.query_params)
        except export.ExportParameterError as error:
            raise ValidationError(error.errors) from error
        response = StreamingHttpResponse(chosen.chunks(), content_type=chosen.content_type)
        response["Content-Disposition"] = f'attachment; filename="{chosen.filename}"'
        return response
