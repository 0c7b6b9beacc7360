"""Make a lasting power of attorney: the service perfplat was built for."""
