/*
 * main.c -- the tlsfit-replay command line and its accept loop.
 *
 *   tlsfit-replay --cert CHAIN.pem --key LEAF.key --versions 1.2-1.3
 *                 [--port N] [--suites12 C030:C02F] [--suites13 NAMES]
 *                 [--server-pref] [--groups NAMES] [--sigalgs NAMES]
 *                 [--client-verify request|require --client-ca FILE
 *                  --client-sigalgs NAMES] [--send-frag N] [--dh-bits N]
 *                 [--seclevel N] [--no-ems] [--no-etm] [--no-ticket]
 *                 [--alpn NAME] [--proof mqtt|http|coap|none]
 *                 [--tls13-groups NAMES] [--tls13-sigalgs NAMES]
 *                 [--tls13-server-pref 0|1] [--tls12-client-groups]
 *                 [--dtls [--cookie-len N] [--mtu N]]
 *                 [--psk-identity ID --psk-key-fd N]
 *
 * --dtls serves DTLS 1.2 over UDP instead (dtls.c; --versions 1.2): cookie
 * exchange always on, a cookie of N bytes, datagrams of at most --mtu bytes.
 * --psk-identity: the TLS 1.2 PSK suites for that identity, the key read from
 * the inherited descriptor --psk-key-fd; --cert and --key may then be left
 * out (a PSK-only server).
 * Listens on 127.0.0.1 only.  Each connection is served by a forked child
 * (a slow client under QEMU never holds up the next one); at most MAX_CHILDREN
 * run at once.  SIGINT or SIGTERM ends the loop: every child is sent SIGTERM
 * and waited for, then the server exits 0.  The server and its children die
 * with their parent (PR_SET_PDEATHSIG), so a killed driver leaves no orphan.
 * Exit codes (../errors/errors.h): 0 stopped by a signal (TF_OK), 2 usage
 * (TF_ERR_USAGE), 3 cannot listen (TF_ERR_LISTEN), 4 bad TLS set-up (TF_ERR_TLS_SETUP).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "replay.h"
#include "../errors/errors.h"

#define MAX_CHILDREN 64

static volatile sig_atomic_t stop_signal;
static pid_t children[MAX_CHILDREN];

static void on_stop(int sig) { stop_signal = sig; }
static void on_child(int sig) { (void)sig; }

typedef struct {
    const char *name;
    int takes_value;
    int (*apply)(tf_replay_opts *o, const char *v);
} optdef;

static int version_of(const char *v)
{
    if (strcmp(v, "1.0") == 0) return TLS1_VERSION;
    if (strcmp(v, "1.1") == 0) return TLS1_1_VERSION;
    if (strcmp(v, "1.2") == 0) return TLS1_2_VERSION;
    if (strcmp(v, "1.3") == 0) return TLS1_3_VERSION;
    return -1;
}

/* "1.2-1.3" or "1.2": the lowest and the highest version served. */
static int set_versions(tf_replay_opts *o, const char *v)
{
    char lo[8] = "", hi[8] = "";
    const char *dash = strchr(v, '-');
    size_t n = dash ? (size_t)(dash - v) : strlen(v);
    if (n >= sizeof lo || (dash && strlen(dash + 1) >= sizeof hi)) return -1;
    memcpy(lo, v, n);
    snprintf(hi, sizeof hi, "%s", dash ? dash + 1 : lo);
    o->min_version = version_of(lo);
    o->max_version = version_of(hi);
    return o->min_version < 0 || o->max_version < o->min_version ? -1 : 0;
}

static int set_port(tf_replay_opts *o, const char *v) { return tf_parse_long(v, 0, 65535, &o->port); }
static int set_cert(tf_replay_opts *o, const char *v) { o->cert = v; return 0; }
static int set_key(tf_replay_opts *o, const char *v) { o->key = v; return 0; }
static int set_s12(tf_replay_opts *o, const char *v) { o->suites12 = v; return 0; }
static int set_s13(tf_replay_opts *o, const char *v) { o->suites13 = v; return 0; }
static int set_pref(tf_replay_opts *o, const char *v) { (void)v; o->server_pref = 1; return 0; }
static int set_groups(tf_replay_opts *o, const char *v) { o->groups = v; return 0; }
static int set_sigalgs(tf_replay_opts *o, const char *v) { o->sigalgs = v; return 0; }
static int set_csig(tf_replay_opts *o, const char *v) { o->client_sigalgs = v; return 0; }
static int set_cca(tf_replay_opts *o, const char *v) { o->client_ca = v; return 0; }
static int set_frag(tf_replay_opts *o, const char *v)
{
    return tf_parse_long(v, 512, 16384, &o->send_frag);
}
static int set_dh(tf_replay_opts *o, const char *v) { return tf_parse_long(v, 512, 16384, &o->dh_bits); }
static int set_sec(tf_replay_opts *o, const char *v) { return tf_parse_long(v, 0, 5, &o->seclevel); }
static int set_ems(tf_replay_opts *o, const char *v) { (void)v; o->no_ems = 1; return 0; }
static int set_etm(tf_replay_opts *o, const char *v) { (void)v; o->no_etm = 1; return 0; }
static int set_tkt(tf_replay_opts *o, const char *v) { (void)v; o->no_ticket = 1; return 0; }
static int set_g13(tf_replay_opts *o, const char *v) { o->groups13 = v; return 0; }
static int set_s13a(tf_replay_opts *o, const char *v) { o->sigalgs13 = v; return 0; }
static int set_p13(tf_replay_opts *o, const char *v)
{
    long n;
    if (tf_parse_long(v, 0, 1, &n) != 0) return -1;
    o->server_pref13 = (int)n;
    return 0;
}
static int set_cg12(tf_replay_opts *o, const char *v)
{
    (void)v;
    o->client_groups12 = 1;
    return 0;
}
static int set_alpn(tf_replay_opts *o, const char *v)
{
    o->alpn = v;
    return strlen(v) > 0 && strlen(v) < 256 ? 0 : -1;
}

static int set_verify(tf_replay_opts *o, const char *v)
{
    if (strcmp(v, "request") == 0) o->verify = TF_REPLAY_VERIFY_REQUEST;
    else if (strcmp(v, "require") == 0) o->verify = TF_REPLAY_VERIFY_REQUIRE;
    else return -1;
    return 0;
}

static int set_proof(tf_replay_opts *o, const char *v)
{
    if (strcmp(v, "mqtt") == 0) o->proof = TF_REPLAY_PROOF_MQTT;
    else if (strcmp(v, "http") == 0) o->proof = TF_REPLAY_PROOF_HTTP;
    else if (strcmp(v, "coap") == 0) o->proof = TF_REPLAY_PROOF_COAP;
    else if (strcmp(v, "none") == 0) o->proof = TF_REPLAY_PROOF_NONE;
    else return -1;
    return 0;
}

static int set_dtls(tf_replay_opts *o, const char *v) { (void)v; o->dtls = 1; return 0; }
static int set_cookie(tf_replay_opts *o, const char *v)
{
    return tf_parse_long(v, 1, 255, &o->cookie_len);
}
static int set_mtu(tf_replay_opts *o, const char *v) { return tf_parse_long(v, 228, 65507, &o->mtu); }
static int set_pskid(tf_replay_opts *o, const char *v)
{
    o->psk_identity = v;
    return strlen(v) > 0 && strlen(v) <= 128 ? 0 : -1;
}
static int set_pskfd(tf_replay_opts *o, const char *v) { return tf_parse_long(v, 0, 1023, &o->psk_key_fd); }

static const optdef OPTIONS[] = {
    { "--port", 1, set_port }, { "--cert", 1, set_cert }, { "--key", 1, set_key },
    { "--versions", 1, set_versions }, { "--suites12", 1, set_s12 },
    { "--suites13", 1, set_s13 }, { "--server-pref", 0, set_pref },
    { "--groups", 1, set_groups }, { "--sigalgs", 1, set_sigalgs },
    { "--client-verify", 1, set_verify }, { "--client-ca", 1, set_cca },
    { "--client-sigalgs", 1, set_csig }, { "--send-frag", 1, set_frag },
    { "--dh-bits", 1, set_dh }, { "--seclevel", 1, set_sec }, { "--no-ems", 0, set_ems },
    { "--no-etm", 0, set_etm }, { "--no-ticket", 0, set_tkt }, { "--alpn", 1, set_alpn },
    { "--proof", 1, set_proof }, { "--tls13-groups", 1, set_g13 },
    { "--tls13-sigalgs", 1, set_s13a }, { "--tls13-server-pref", 1, set_p13 },
    { "--tls12-client-groups", 0, set_cg12 }, { "--dtls", 0, set_dtls },
    { "--cookie-len", 1, set_cookie }, { "--mtu", 1, set_mtu },
    { "--psk-identity", 1, set_pskid }, { "--psk-key-fd", 1, set_pskfd },
};

static int parse(int argc, char **argv, tf_replay_opts *o)
{
    int i;
    size_t k;
    memset(o, 0, sizeof *o);
    o->seclevel = -1;
    o->server_pref13 = -1;
    o->min_version = o->max_version = -1;
    o->psk_key_fd = -1;
    for (i = 1; i < argc; i++) {
        for (k = 0; k < sizeof OPTIONS / sizeof OPTIONS[0]; k++)
            if (strcmp(argv[i], OPTIONS[k].name) == 0) break;
        if (k == sizeof OPTIONS / sizeof OPTIONS[0]) {
            fprintf(stderr, "tlsfit-replay: unknown option %s\n", argv[i]);
            return -1;
        }
        if (OPTIONS[k].takes_value && i + 1 >= argc) {
            fprintf(stderr, "tlsfit-replay: %s needs a value\n", argv[i]);
            return -1;
        }
        if (OPTIONS[k].apply(o, OPTIONS[k].takes_value ? argv[++i] : NULL) != 0) {
            fprintf(stderr, "tlsfit-replay: bad value for %s: %s\n", OPTIONS[k].name, argv[i]);
            return -1;
        }
    }
    if ((!o->psk_identity && !o->cert) || !o->cert != !o->key || o->min_version < 0) {
        fprintf(stderr, "tlsfit-replay: --cert and --key (or --psk-identity), and --versions "
                "are required\n");
        return -1;
    }
    if (o->dtls && (o->min_version != TLS1_2_VERSION || o->max_version != TLS1_2_VERSION)) {
        fprintf(stderr, "tlsfit-replay: --dtls serves DTLS 1.2 only: --versions 1.2\n");
        return -1;
    }
    return 0;
}

/* A listening socket on 127.0.0.1:port (0: any free port); -1 on failure. */
static int listen_on(long port, unsigned *bound)
{
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((unsigned short)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 64) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        fprintf(stderr, "tlsfit-replay: cannot listen on 127.0.0.1:%ld: %s\n", port,
                strerror(errno));
        close(fd);
        return -1;
    }
    *bound = ntohs(a.sin_port);
    return fd;
}

/* Reaps finished children; with `block`, waits until a slot is free. */
static int reap(int block)
{
    int free_slot = -1;
    for (;;) {
        size_t i;
        pid_t pid;
        while ((pid = waitpid(-1, NULL, WNOHANG)) > 0)
            for (i = 0; i < MAX_CHILDREN; i++)
                if (children[i] == pid) children[i] = 0;
        for (i = 0; i < MAX_CHILDREN && free_slot < 0; i++)
            if (children[i] == 0) free_slot = (int)i;
        if (free_slot >= 0 || !block || stop_signal) return free_slot;
        pause();
    }
}

static void stop_children(void)
{
    size_t i;
    for (i = 0; i < MAX_CHILDREN; i++)
        if (children[i] > 0) kill(children[i], SIGTERM);
    for (i = 0; i < MAX_CHILDREN; i++)
        if (children[i] > 0) waitpid(children[i], NULL, 0);
}

/* The accept loop: one child per connection until a stop signal. */
static void serve(int lfd, SSL_CTX *ctx, enum tf_replay_proof proof)
{
    while (!stop_signal) {
        int slot = reap(1), fd;
        pid_t pid;
        if (slot < 0) break;
        /* poll with a timeout: a signal between the check and accept() is not lost */
        struct pollfd p = { lfd, POLLIN, 0 };
        if (poll(&p, 1, 200) <= 0) continue;
        fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0) continue;                   /* EINTR (a signal) or a client gone */
        pid = fork();
        if (pid == 0) {
            signal(SIGINT, SIG_DFL);
            signal(SIGTERM, SIG_DFL);
            prctl(PR_SET_PDEATHSIG, SIGTERM);
            close(lfd);
            _exit(tf_replay_serve(ctx, fd, proof));
        }
        if (pid > 0) children[slot] = pid;
        close(fd);
    }
}

/* The DTLS loop: each session that came back with its cookie gets a child. */
static void serve_dtls(int lfd, unsigned port, SSL_CTX *ctx, const tf_replay_opts *o)
{
    BIO_ADDR *peer = BIO_ADDR_new();
    while (peer != NULL && !stop_signal) {
        int slot = reap(1);
        pid_t pid;
        SSL *ssl;
        if (slot < 0) break;
        struct pollfd p = { lfd, POLLIN, 0 };
        if (poll(&p, 1, 200) <= 0) continue;
        ssl = tf_replay_dtls_listen(ctx, lfd, peer);
        if (ssl == NULL) continue;
        pid = fork();
        if (pid == 0) {
            signal(SIGINT, SIG_DFL);
            signal(SIGTERM, SIG_DFL);
            prctl(PR_SET_PDEATHSIG, SIGTERM);
            close(lfd);
            _exit(tf_replay_dtls_session(ssl, port, peer, o->mtu, o->proof));
        }
        if (pid > 0) children[slot] = pid;
        SSL_free(ssl);
    }
    BIO_ADDR_free(peer);
}

int main(int argc, char **argv)
{
    tf_replay_opts o;
    struct sigaction sa;
    unsigned port = 0;
    int lfd;
    SSL_CTX *ctx;
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (parse(argc, argv, &o) != 0) return TF_ERROR_EXIT(TF_ERR_USAGE);
    signal(SIGPIPE, SIG_IGN);
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;                    /* no SA_RESTART: accept() returns */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sa.sa_handler = on_child;
    sigaction(SIGCHLD, &sa, NULL);
    ctx = tf_replay_context(&o);
    if (ctx == NULL) return TF_ERROR_EXIT(TF_ERR_TLS_SETUP);
    lfd = o.dtls ? tf_replay_udp_listen(o.port, &port) : listen_on(o.port, &port);
    if (lfd < 0) {
        SSL_CTX_free(ctx);
        return TF_ERROR_EXIT(TF_ERR_LISTEN);
    }
    printf("listening 127.0.0.1 %u\n", port);
    fflush(stdout);
    if (o.dtls) serve_dtls(lfd, port, ctx, &o);
    else serve(lfd, ctx, o.proof);
    close(lfd);
    stop_children();
    SSL_CTX_free(ctx);
    return TF_OK;
}
