"""Headwater: DynamoDB tables, DynamoDB Streams and Lambda stream triggers on your machine."""

__version__ = "0.1.0"
__all__ = ["__version__"]
