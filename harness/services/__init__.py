"""Isolated, real services for tests, one *kind* each, behind three backends.

``local`` runs a service as local processes (no Docker needed), ``docker`` uses
testcontainers, ``external`` attaches to a service the user already runs. Kinds are
registered in ``harness.services.registry``; see ``harness.services.kind``.
"""
