"""Readers of SIEM and network-sensor exports: Elastic Common Schema (ECS) ndjson, Splunk CSV
exports and Suricata EVE JSON. (Zeek JSON with ``_`` field names is read by ``evidence.zeek``.)

Each module is a format (``NAME``, ``sniff``, ``read``) registered in ``evidence._ingest``;
see docs/formats.md, "SIEM exports".
"""
