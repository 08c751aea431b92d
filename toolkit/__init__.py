"""tke-catalog: build, validate, plan, publish and install the application catalog of a TKEStack-style platform."""

__version__ = "0.1.0"

__all__ = ["__version__"]
