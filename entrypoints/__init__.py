"""Entrypoints: the ways in (HTTP, command line). Thin: parse, call one use case, shape the answer."""
