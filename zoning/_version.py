"""The package version, in one place.

Every module imports it from here, never from the package root.
"""

__version__ = "0.1.0"
