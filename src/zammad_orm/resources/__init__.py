"""One small module per Zammad resource: the attrs model, its endpoint, relations and extra methods."""
