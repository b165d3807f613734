"""The yardsticks: small stand-alone apps as people write them without any architecture, serving
the same table (and paths) as the project, for the HTTP benchmark."""
