"""One function per verb: each composes the loader, the pure core and the adapters passed in, and
returns a result object for the CLI to render."""
