"""Engines: the columnar path from the event table to the personas the analysis weighs.

Enrichment adds what each source address was at the event's time as columns; the findings
(per-persona cover, actor hits, slips) are computed over the whole table; only the personas
with something to weigh become ``model.Observation`` objects for ``analysis``.
"""
