"""The bundled demo compound and the demo runner."""
