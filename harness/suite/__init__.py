"""The standard suite: StandardSuite, composed from one module per capability."""
