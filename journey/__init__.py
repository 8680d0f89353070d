"""The lab's own tooling: lesson catalogue, target loader, pytest plugin, services and the CLI."""
