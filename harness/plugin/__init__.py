"""The pytest plugin: options, services, scenario fixtures, xdist sharing."""
