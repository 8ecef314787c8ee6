"""The one model of an mbedTLS source tree: where it is and which line it is (tree),
whether a header compiles against it (check), its error and state names (names), the
whole-file guards of its sources (guards), and its own default configuration
(baseline).  Every stage that builds or names mbedTLS things goes through here."""
