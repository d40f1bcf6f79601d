"""One module per `repflow` sub-command, each with configure(parser) and run(args)."""
