"""The command line: one module per command over the library.

cli/main.py holds the registry (name, summary, module) and main(), the one place
where exceptions become exit codes.  Each command module defines HELP,
configure(parser) and run(args); main() imports only the module of the command it
runs, so `tlsfit probe` does not pay for Jinja2, the fit search or the firmware
builder.  The library (every other package) never imports from here.
"""
