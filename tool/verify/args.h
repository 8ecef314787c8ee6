/*
 * args.h -- the client's command line:
 *
 *   tlsfit-verify-client --host H --port P --ca FILE [--sni NAME]
 *                        [--timeout SEC] [--min-version 1.2|1.3] [--max-version 1.2|1.3]
 */
#ifndef TF_VERIFY_ARGS_H
#define TF_VERIFY_ARGS_H

#define EXIT_USAGE 2

struct tf_opts {
    const char *host;
    const char *port;   /* digits, 1 to 65535 */
    const char *sni;    /* --sni, else the host */
    const char *ca;
    int timeout_ms;     /* per wait; the whole handshake gets tf_handshake_limit_s() */
    int min_version;    /* 0: the configuration's default; else 12 or 13 */
    int max_version;
};

/* Fills *o from argv.  On a usage error (or --help) prints the reason and
   the usage to stderr and exits with EXIT_USAGE. */
void tf_parse_args(int argc, char **argv, struct tf_opts *o);

/* The deadline of the whole handshake, in seconds: 3 x the timeout + 1. */
int tf_handshake_limit_s(const struct tf_opts *o);

#endif
