"""The `voltstream` subcommands, one module each, discovered by `voltstream.cli`."""
