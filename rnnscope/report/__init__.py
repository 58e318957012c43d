"""Exports of gradient-check results and traces (CSV, JSON, Markdown, HTML). No Qt."""
