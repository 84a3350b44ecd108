"""The application: configuration, assembly, middlewares, i18n, the CLI and run modes."""
