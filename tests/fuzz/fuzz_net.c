/*
 * fuzz_net.c -- the in-memory transport that replaces tool/probe/net.c in the
 * fuzz builds (see fuzz.h).  Same API as net.h, so record.c, session.c and
 * probe.c link against it unchanged; tf_resume_probe (resume.c) is replaced too.
 *
 * State: [data, data + len) are the server's bytes, `pos` the next one to
 * hand out (pos <= len).  tf_net_recv copies min(n, len - pos) bytes and
 * answers TF_ERR_CLOSED with *got set when the bytes run out before n, as a
 * peer that closed would; a connection after the first starts where the
 * previous one stopped reading.  DTLS reads the same bytes as datagrams
 * (tf_net_recv_datagram, below).
 */
#include <string.h>

#include "errors.h"
#include "fuzz.h"
#include "net.h"
#include "resume.h"
#include "psk.h"

#define FAKE_FD 1000

static const uint8_t *net_data;
static size_t net_len, net_pos, net_sent;
static long long net_clock;

void tf_fuzz_net_set(const uint8_t *data, size_t len)
{
    net_data = data;
    net_len = len;
    net_pos = 0;
    net_sent = 0;
}

size_t tf_fuzz_net_sent(void) { return net_sent; }

long long tf_now_ms(void) { return net_clock++; }  /* monotonic, no system clock */

int tf_host_is_ip(const char *host) { return host[0] >= '0' && host[0] <= '9'; }

int tf_target_parse(tf_target *t, const char *spec)
{
    size_t n = strlen(spec);
    if (n == 0 || n >= sizeof(t->host)) return TF_ERR_USAGE;
    memcpy(t->host, spec, n + 1);
    t->port = 443;
    return TF_OK;
}

int tf_target_resolve(tf_target *t)
{
    strcpy(t->addr_str, "127.0.0.1");
    return TF_OK;
}

void tf_net_pace(tf_target *t) { t->connections++; }

int tf_net_connect(tf_target *t, int *fd)
{
    t->connections++;
    *fd = FAKE_FD;
    return TF_OK;
}

int tf_net_send(int fd, const uint8_t *buf, size_t n, int timeout_ms)
{
    (void)fd; (void)timeout_ms;
    if (n) { volatile uint8_t touch = buf[0] ^ buf[n - 1]; (void)touch; }  /* ASan sees a bad span */
    net_sent += n;
    return TF_OK;
}

int tf_net_recv(int fd, uint8_t *buf, size_t n, int timeout_ms, size_t *got)
{
    size_t k = net_len - net_pos < n ? net_len - net_pos : n;
    (void)fd; (void)timeout_ms;
    if (k) memcpy(buf, net_data + net_pos, k);
    net_pos += k;
    *got = k;
    return k == n ? TF_OK : TF_ERR_CLOSED;
}

/*
 * DTLS (tool/probe/dtls.c): the same bytes read as datagrams, each after its
 * 2-byte big-endian length (the last one takes whatever remains, cut to the
 * length asked for).  When they run out, a receive times out and the fake
 * clock moves past its wait, so retransmissions and deadlines play out.
 */
int tf_net_connect_udp(tf_target *t, int *fd)
{
    t->connections++;
    *fd = FAKE_FD;
    return TF_OK;
}

int tf_net_send_datagram(int fd, const uint8_t *buf, size_t n)
{
    return tf_net_send(fd, buf, n, 0);
}

int tf_net_recv_datagram(int fd, uint8_t *buf, size_t cap, int wait_ms, size_t *got)
{
    size_t want, k;
    (void)fd;
    *got = 0;
    if (net_pos >= net_len) {
        net_clock += wait_ms;
        return TF_ERR_TIMEOUT;
    }
    want = net_len - net_pos;
    if (want >= 2) {
        want = ((size_t)net_data[net_pos] << 8) | net_data[net_pos + 1];
        net_pos += 2;
    }
    k = want < net_len - net_pos ? want : net_len - net_pos;
    *got = k < cap ? k : cap;
    if (*got) memcpy(buf, net_data + net_pos, *got);
    net_pos += k;
    return TF_OK;
}

void tf_net_close(int fd) { (void)fd; }

/*
 * The resumption step drives mbedTLS's own client (tool/probe/resume.c, not
 * in the fuzz builds: none of the prober's parsers run there).  In a fuzz
 * build the step runs and learns nothing.
 */
int tf_resume_probe(tf_target *t, uint16_t version, const uint8_t *alpn, size_t alpn_len,
                    struct tf_client_id *id, tf_resume_facts *out)
{
    (void)t; (void)version; (void)alpn; (void)alpn_len; (void)id;
    tf_resume_unknown(out);
    return TF_OK;
}

/*
 * The psk step drives mbedTLS's own client too (tool/probe/psk.c); a fuzz run
 * gives no key (--psk-key-fd), so the step never runs: this only links.
 */
int tf_psk_probe(tf_target *t, const tf_psk_secret *s, const uint16_t *suites12, size_t n12,
                 tf_psk_facts *out)
{
    (void)t; (void)s; (void)suites12; (void)n12; (void)out;
    return TF_ERR_INTERNAL;
}
