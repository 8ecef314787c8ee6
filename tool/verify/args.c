/* args.c -- parsing the command line (args.h). */
#include "args.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(const char *why)
{
    fprintf(stderr,
            "tlsfit-verify-client: %s\n"
            "usage: tlsfit-verify-client --host H --port P --ca FILE [--sni NAME]\n"
            "       [--timeout SEC] [--min-version 1.2|1.3] [--max-version 1.2|1.3]\n",
            why);
    exit(EXIT_USAGE);
}

static int parse_version(const char *s)
{
    if (strcmp(s, "1.2") == 0) {
        return 12;
    }
    if (strcmp(s, "1.3") == 0) {
        return 13;
    }
    usage("--min-version / --max-version take 1.2 or 1.3");
    return 0;
}

static const char *parse_port(const char *v)
{
    char *end;
    long p = strtol(v, &end, 10);
    if (*v == '\0' || *end != '\0' || p < 1 || p > 65535) {
        usage("--port takes a number from 1 to 65535");
    }
    return v;
}

static int parse_timeout_ms(const char *v)
{
    char *end;
    double t = strtod(v, &end);
    if (*v == '\0' || *end != '\0' || !(t > 0 && t <= 600)) {
        usage("--timeout takes seconds, more than 0 and at most 600");
    }
    int ms = (int) (t * 1000.0);
    return ms < 1 ? 1 : ms;
}

/* Takes one option and its value `v`. */
static void parse_option(const char *a, const char *v, struct tf_opts *o)
{
    if (strcmp(a, "--host") == 0) {
        o->host = v;
    } else if (strcmp(a, "--port") == 0) {
        o->port = parse_port(v);
    } else if (strcmp(a, "--sni") == 0) {
        o->sni = v;
    } else if (strcmp(a, "--ca") == 0) {
        o->ca = v;
    } else if (strcmp(a, "--timeout") == 0) {
        o->timeout_ms = parse_timeout_ms(v);
    } else if (strcmp(a, "--min-version") == 0) {
        o->min_version = parse_version(v);
    } else if (strcmp(a, "--max-version") == 0) {
        o->max_version = parse_version(v);
    } else {
        char msg[128];
        snprintf(msg, sizeof(msg), "unknown option %.60s", a);
        usage(msg);
    }
}

void tf_parse_args(int argc, char **argv, struct tf_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->timeout_ms = 10000;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage("one verified TLS handshake; prints one JSON line");
        }
        if (i + 1 >= argc) {
            char msg[128];
            snprintf(msg, sizeof(msg), "%.60s: missing value or unknown option", a);
            usage(msg);
        }
        parse_option(a, argv[++i], o);
    }
    if (o->host == NULL || o->port == NULL || o->ca == NULL) {
        usage("--host, --port and --ca are required");
    }
    if (o->min_version && o->max_version && o->min_version > o->max_version) {
        usage("--min-version is above --max-version");
    }
    if (o->sni == NULL) {
        o->sni = o->host;
    }
}

int tf_handshake_limit_s(const struct tf_opts *o)
{
    return 3 * (o->timeout_ms / 1000) + 1;
}
