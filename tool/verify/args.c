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
            "       [--timeout SEC] [--min-version 1.2|1.3] [--max-version 1.2|1.3]\n"
            "       [--proof mqtt|http|no-alert|coap|send:HEX,expect:HEX]\n"
            "       [--client-cert FILE --client-key FILE] [--resume]\n"
            "       [--psk-identity ID --psk-key-fd N]\n",
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

/* The value of one hex digit, or -1. */
static int hex_value(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    return c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Decodes the hex digits s[0..n) into out (cap bytes); returns the length or -1. */
static long decode_hex(const char *s, size_t n, unsigned char *out, size_t cap)
{
    if (n % 2 != 0 || n / 2 > cap) {
        return -1;
    }
    for (size_t i = 0; i < n; i += 2) {
        int hi = hex_value(s[i]), lo = hex_value(s[i + 1]);
        if (hi < 0 || lo < 0) {
            return -1;
        }
        out[i / 2] = (unsigned char) (hi << 4 | lo);
    }
    return (long) (n / 2);
}

/* "send:HEX,expect:HEX" (send may be empty, expect may not). */
static void parse_bytes_proof(const char *v, struct tf_opts *o)
{
    const char *comma = strchr(v, ',');
    long sent = -1, expected = -1;
    if (strncmp(v, "send:", 5) == 0 && comma != NULL && strncmp(comma + 1, "expect:", 7) == 0) {
        sent = decode_hex(v + 5, (size_t) (comma - v - 5), o->proof_send, sizeof(o->proof_send));
        const char *e = comma + 8;
        expected = decode_hex(e, strlen(e), o->proof_expect, sizeof(o->proof_expect));
    }
    if (sent < 0 || expected < 1) {
        usage("--proof send:HEX,expect:HEX takes up to 1024 bytes to send and 1 to 64 "
              "expected, in pairs of hex digits");
    }
    o->proof.kind = TF_PROOF_BYTES;
    o->proof.send = o->proof_send;
    o->proof.send_len = (size_t) sent;
    o->proof.expect = o->proof_expect;
    o->proof.expect_len = (size_t) expected;
}

static void parse_proof(const char *v, struct tf_opts *o)
{
    if (strcmp(v, "mqtt") == 0) {
        o->proof.kind = TF_PROOF_MQTT;
    } else if (strcmp(v, "http") == 0) {
        o->proof.kind = TF_PROOF_HTTP;
    } else if (strcmp(v, "no-alert") == 0) {
        o->proof.kind = TF_PROOF_NO_ALERT;
    } else if (strcmp(v, "coap") == 0) {
        o->proof.kind = TF_PROOF_COAP;
    } else if (strncmp(v, "send:", 5) == 0) {
        parse_bytes_proof(v, o);
    } else {
        usage("--proof takes mqtt, http, no-alert, coap or send:HEX,expect:HEX");
    }
}

/* The proof by port: 8883 MQTT, 443 and 8443 HTTP, 5684 CoAP over DTLS, else no-alert. */
static enum tf_proof_kind proof_for_port(const char *port)
{
    long p = strtol(port, NULL, 10);
#if defined(TLSFIT_DTLS)
    if (p == 5684) {
        return TF_PROOF_COAP;
    }
#endif
    if (p == 8883) {
        return TF_PROOF_MQTT;
    }
    return p == 443 || p == 8443 ? TF_PROOF_HTTP : TF_PROOF_NO_ALERT;
}

/* A file descriptor number for --psk-key-fd. */
static int parse_fd(const char *v)
{
    char *end;
    long n = strtol(v, &end, 10);
    if (*v == '\0' || *end != '\0' || n < 0 || n > 1023) {
        usage("--psk-key-fd takes a file descriptor number (0-1023)");
    }
    return (int) n;
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
    } else if (strcmp(a, "--client-cert") == 0) {
        o->client_cert = v;
    } else if (strcmp(a, "--client-key") == 0) {
        o->client_key = v;
    } else if (strcmp(a, "--psk-identity") == 0) {
        o->psk_identity = v;
    } else if (strcmp(a, "--psk-key-fd") == 0) {
        o->psk_key_fd = parse_fd(v);
    } else if (strcmp(a, "--timeout") == 0) {
        o->timeout_ms = parse_timeout_ms(v);
    } else if (strcmp(a, "--min-version") == 0) {
        o->min_version = parse_version(v);
    } else if (strcmp(a, "--max-version") == 0) {
        o->max_version = parse_version(v);
    } else if (strcmp(a, "--proof") == 0) {
        parse_proof(v, o);
        o->proof_given = 1;
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
    o->psk_key_fd = -1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage("one verified TLS handshake; prints one JSON line");
        }
        if (strcmp(a, "--resume") == 0) {
            o->resume = 1;
            continue;
        }
        if (i + 1 >= argc) {
            char msg[128];
            snprintf(msg, sizeof(msg), "%.60s: missing value or unknown option", a);
            usage(msg);
        }
        parse_option(a, argv[++i], o);
    }
    if (o->host == NULL || o->port == NULL || (o->ca == NULL && o->psk_identity == NULL)) {
        usage("--host, --port and --ca (or --psk-identity) are required");
    }
    if ((o->psk_identity == NULL) != (o->psk_key_fd < 0)) {
        usage("--psk-identity and --psk-key-fd go together");
    }
    if ((o->client_cert == NULL) != (o->client_key == NULL)) {
        usage("--client-cert and --client-key go together");
    }
    if (o->min_version && o->max_version && o->min_version > o->max_version) {
        usage("--min-version is above --max-version");
    }
    if (o->sni == NULL) {
        o->sni = o->host;
    }
    if (!o->proof_given) {
        o->proof.kind = proof_for_port(o->port);
    }
    o->proof.wait_ms = TF_PROOF_WAIT_MS;
    o->proof.reply_ms = (uint32_t) o->timeout_ms;
    o->proof.host = o->sni;
#if defined(TLSFIT_RESUME)
    o->resume = 1;      /* a header from `tlsfit gen --resume` */
#endif
}

int tf_handshake_limit_s(const struct tf_opts *o)
{
    return 3 * (o->timeout_ms / 1000) + 1;
}
