"""The whole model graph as one chart (on models/index.html): the lake's tables on the left, each
model right of everything it reads, lines from parents to children; a click opens a model's page.

networkx lays the DAG out in topological generations (a model's column is one more than its
deepest parent's); Altair draws the lines, the points and the labels (Vega-Lite).
"""

from __future__ import annotations

from typing import Any

import altair as alt
import networkx as nx
import pandas as pd

from olist.site.catalog import LAYER_NAMES, ModelDoc
from olist.site.lineage import LAKE

COLUMN_WIDTH = 230
ROW_HEIGHT = 26


def model_graph(docs: list[ModelDoc], lake_tables: list[str]) -> nx.DiGraph:
    """Models and lake tables as nodes, an edge from each table a model reads to the model."""
    graph = nx.DiGraph()
    for table in lake_tables:
        graph.add_node(f"{LAKE}.{table}", layer="bronze", page=None)
    for doc in docs:
        graph.add_node(doc.name, layer=LAYER_NAMES[doc.schema], page=doc.page)
        graph.add_edges_from((parent, doc.name) for parent in doc.upstream)
        # A lake read is a macro, not a table SQLMesh knows: the lineage's lake columns say which.
        lake_parents = {
            ref.table for column in doc.columns for ref in column.sources if ref.is_lake
        }
        graph.add_edges_from((parent, doc.name) for parent in lake_parents)
    return graph


def graph_chart(graph: nx.DiGraph) -> dict[str, Any]:
    """The graph's Vega-Lite specification, laid out by generation."""
    for depth, generation in enumerate(nx.topological_generations(graph)):
        for row, node in enumerate(sorted(generation)):
            graph.nodes[node]["x"] = depth * COLUMN_WIDTH
            graph.nodes[node]["y"] = row * ROW_HEIGHT
    nodes = pd.DataFrame(
        [
            {
                "name": node,
                "label": node.split(".", 1)[1],
                "x": data["x"],
                "y": data["y"],
                "layer": data["layer"],
                "page": data["page"],
            }
            for node, data in graph.nodes(data=True)
        ]
    )
    edges = pd.DataFrame(
        [
            {
                "x": graph.nodes[a]["x"],
                "y": graph.nodes[a]["y"],
                "x2": graph.nodes[b]["x"],
                "y2": graph.nodes[b]["y"],
            }
            for a, b in graph.edges
        ]
    )
    width = (int(nodes.x.max()) + COLUMN_WIDTH) if len(nodes) else COLUMN_WIDTH
    height = (int(nodes.y.max()) + ROW_HEIGHT) if len(nodes) else ROW_HEIGHT
    x = alt.X("x:Q", axis=None, scale=alt.Scale(domain=[-10, width]))
    y = alt.Y("y:Q", axis=None, scale=alt.Scale(domain=[-ROW_HEIGHT / 2, height], reverse=True))
    lines = (
        alt.Chart(edges).mark_rule(color="#bbb", strokeWidth=0.8).encode(x, y, x2="x2:Q", y2="y2:Q")
    )
    layer_colors = alt.Color(
        "layer:N",
        title="Layer",
        scale=alt.Scale(
            domain=["bronze", "silver", "gold"], range=["#a0522d", "#8a8f98", "#d4a017"]
        ),
    )
    points = (
        alt.Chart(nodes)
        .mark_circle(size=90, opacity=1)
        .encode(x, y, layer_colors, href="page:N", tooltip=["name", "layer"])
    )
    labels = (
        alt.Chart(nodes)
        .mark_text(align="left", dx=8, fontSize=11)
        .encode(x, y, text="label:N", href="page:N")
    )
    return (
        alt.layer(lines, points, labels)
        .properties(width=width, height=height)
        .configure_view(stroke=None)
        .to_dict(validate=False)
    )
