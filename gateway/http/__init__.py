"""The HTTP layer. Today: the ``/v1`` JSON API for brand backends (``routes.setup_api``) and its
client for the ``jumbe`` commands (``client``).

Issue 10 moves ``create_app``, health and admin here as well. Nothing is imported here, so a
command that only needs the client does not load the server.
"""
