"""The foundation every stage stands on: exit codes and the error that carries them
(errors), where things live (paths), host:port parsing (hostport), one-line text and
progress messages (text), and build-directory locks and logged commands (proc).
Nothing here knows about mbedTLS, profiles or targets."""
