"""The Zammad emulator: a real HTTP server on loopback backed by SQLite, for tests and the demo.

Needs the ``[emulator]`` extra. Nothing in the runtime package imports this subpackage.
"""
