"""Readers of cloud and identity-provider logs: AWS CloudTrail, Entra ID (Azure AD) sign-in and
audit logs, the Microsoft 365 unified audit log, Okta, Google Workspace and GitHub audit logs.

Each module is a format (``NAME``, ``sniff``, ``read``) registered in ``evidence._ingest``;
the record shapes they share (JSON lines, JSON documents, CSV) are read by
``evidence._records``. See docs/formats.md, "Cloud and identity logs".
"""
