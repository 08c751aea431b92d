"""The pure core: data in, data out. No files, network, subprocess, environment or clock; never prints.

Everything here is testable without a binary; the adapters and actions build on it.
"""
