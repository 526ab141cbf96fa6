"""The operator's tools: the ``dynsession`` command (tables, sessions, ``local``) and the local
DynamoDB-compatible server."""
