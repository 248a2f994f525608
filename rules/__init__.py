"""The rules engine: rule definitions as pure state functions, and the engine that runs them."""
