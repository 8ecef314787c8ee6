/* errors.c -- the {code, name, comment} table behind errors.h. */
#include "errors.h"

static const tf_errinfo table[] = {
    { TF_OK, "TF_OK", "probe completed; the profile was written" },
    { TF_ERR_USAGE, "TF_ERR_USAGE", "bad command line" },
    { TF_ERR_RESOLVE, "TF_ERR_RESOLVE", "the host name did not resolve" },
    { TF_ERR_REFUSED, "TF_ERR_REFUSED", "the TCP connection was refused (nothing listens on that port)" },
    { TF_ERR_TIMEOUT, "TF_ERR_TIMEOUT", "the peer stayed silent past --timeout" },
    { TF_ERR_NOT_TLS, "TF_ERR_NOT_TLS", "the peer answered with something that is not TLS (HTTP, SSH banner, ...)" },
    { TF_ERR_CLOSED, "TF_ERR_CLOSED", "the peer closed the connection in the middle of a handshake" },
    { TF_ERR_MALFORMED, "TF_ERR_MALFORMED", "the peer sent malformed TLS (bad record, lying length field, truncated message)" },
    { TF_ERR_NO_VERSION, "TF_ERR_NO_VERSION", "the peer speaks TLS but accepted none of TLS 1.0 to 1.3 with any suite offered" },
    { TF_ERR_CONNECT, "TF_ERR_CONNECT", "the connection failed (host unreachable, reset, ...)" },
    { TF_ERR_OUTPUT, "TF_ERR_OUTPUT", "the profile could not be written" },
    { TF_ERR_NOMEM, "TF_ERR_NOMEM", "out of memory" },
    { TF_ERR_CA_FILE, "TF_ERR_CA_FILE", "a --ca file could not be read or holds no certificate" },
    { TF_ERR_CRYPTO, "TF_ERR_CRYPTO", "the TLS 1.3 key exchange or record decryption failed" },
    { TF_ERR_INTERNAL, "TF_ERR_INTERNAL", "internal error in the prober (please report it)" },
    { TF_ERR_SNI, "TF_ERR_SNI", "the server refused the hello for its server name (unrecognized_name): pass --sni NAME" },
    { 0, NULL, NULL }
};

const tf_errinfo *tf_err_table(void) { return table; }

static const tf_errinfo *lookup(int code)
{
    const tf_errinfo *e;
    for (e = table; e->name != NULL; e++)
        if (e->code == code) return e;
    return NULL;
}

const char *tf_err_name(int code)
{
    const tf_errinfo *e = lookup(code);
    return e ? e->name : "TF_ERR_UNKNOWN";
}

const char *tf_err_comment(int code)
{
    const tf_errinfo *e = lookup(code);
    return e ? e->comment : "unknown error";
}
