/*
 * dtls.c -- the replica over UDP: DTLS 1.2 (see replay.h).
 *
 * One non-blocking socket on 127.0.0.1:PORT takes every ClientHello;
 * DTLSv1_listen answers each with a HelloVerifyRequest (a stateless cookie:
 * an HMAC-SHA256 of the client's address and port, stretched or cut to the
 * recorded length) and returns once a hello comes back with a valid cookie.
 * That session then gets its own child and its own socket, bound to the same
 * port (SO_REUSEPORT) and connected to the client: the kernel hands a
 * connected socket the datagrams of its peer before the listening one, so
 * each session reads only its own client's datagrams.
 *
 * TLS 1.2 PSK: one identity; its key is read once, at start-up, from an
 * inherited file descriptor (never from the command line, which `ps` shows).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#include "replay.h"

#define COOKIE_DEFAULT 20           /* OpenSSL's s_server cookie: an HMAC-SHA1 */
#define PSK_MAX_KEY 64              /* the driver's core/pskkey.py MAX_KEY */

static unsigned char cookie_secret[32];
static size_t cookie_len = COOKIE_DEFAULT;
static unsigned char psk_key[PSK_MAX_KEY];
static size_t psk_key_len;
static const char *psk_identity;

/* The cookie for the client of ssl: cookie_len bytes, HMAC(secret, i || address). */
static int make_cookie(SSL *ssl, unsigned char *out)
{
    unsigned char addr[64], mac[EVP_MAX_MD_SIZE];
    size_t addr_len = 0, at = 0;
    unsigned short port;
    unsigned mac_len;
    unsigned char i = 0;
    BIO_ADDR *peer = BIO_ADDR_new();
    if (peer == NULL || BIO_dgram_get_peer(SSL_get_rbio(ssl), peer) <= 0 ||
        !BIO_ADDR_rawaddress(peer, NULL, &addr_len) || addr_len + 3 > sizeof addr ||
        !BIO_ADDR_rawaddress(peer, addr + 3, &addr_len)) {
        BIO_ADDR_free(peer);
        return -1;
    }
    port = BIO_ADDR_rawport(peer);
    BIO_ADDR_free(peer);
    memcpy(addr + 1, &port, 2);
    while (at < cookie_len) {
        size_t n;
        addr[0] = i++;
        if (!HMAC(EVP_sha256(), cookie_secret, sizeof cookie_secret, addr, addr_len + 3, mac,
                  &mac_len))
            return -1;
        n = cookie_len - at < mac_len ? cookie_len - at : mac_len;
        memcpy(out + at, mac, n);
        at += n;
    }
    return 0;
}

static int generate_cookie(SSL *ssl, unsigned char *cookie, unsigned int *len)
{
    if (make_cookie(ssl, cookie) != 0) return 0;
    *len = (unsigned)cookie_len;
    return 1;
}

static int verify_cookie(SSL *ssl, const unsigned char *cookie, unsigned int len)
{
    unsigned char want[255];
    return len == cookie_len && make_cookie(ssl, want) == 0 &&
           CRYPTO_memcmp(cookie, want, len) == 0;
}

static unsigned int psk_callback(SSL *ssl, const char *identity, unsigned char *psk,
                                 unsigned int max_len)
{
    (void)ssl;
    if (identity == NULL || strcmp(identity, psk_identity) != 0 || psk_key_len > max_len)
        return 0;
    memcpy(psk, psk_key, psk_key_len);
    return (unsigned)psk_key_len;
}

/* The key on fd: 1..PSK_MAX_KEY raw bytes, then end of file. */
static int read_psk_key(int fd)
{
    unsigned char buf[PSK_MAX_KEY + 1];
    size_t n = 0;
    for (;;) {
        ssize_t r = read(fd, buf + n, sizeof buf - n);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0 || (n += (size_t)r) == sizeof buf) break;
    }
    close(fd);
    if (n == 0 || n > PSK_MAX_KEY) {
        OPENSSL_cleanse(buf, sizeof buf);
        fprintf(stderr, "tlsfit-replay: --psk-key-fd: no key of 1 to %d bytes\n", PSK_MAX_KEY);
        return -1;
    }
    memcpy(psk_key, buf, n);
    psk_key_len = n;
    OPENSSL_cleanse(buf, sizeof buf);
    return 0;
}

int tf_replay_dtls_setup(SSL_CTX *ctx, const tf_replay_opts *o)
{
    if (o->cookie_len > 0) cookie_len = (size_t)o->cookie_len;
    if (RAND_bytes(cookie_secret, sizeof cookie_secret) != 1) {
        fprintf(stderr, "tlsfit-replay: no random bytes for the cookie key\n");
        return -1;
    }
    SSL_CTX_set_cookie_generate_cb(ctx, generate_cookie);
    SSL_CTX_set_cookie_verify_cb(ctx, verify_cookie);
    if (o->psk_identity) {
        if (o->psk_key_fd < 0 || read_psk_key((int)o->psk_key_fd) != 0) {
            if (o->psk_key_fd < 0)
                fprintf(stderr, "tlsfit-replay: --psk-identity needs --psk-key-fd\n");
            return -1;
        }
        psk_identity = o->psk_identity;
        SSL_CTX_set_psk_server_callback(ctx, psk_callback);
    }
    return 0;
}

/* A UDP socket on 127.0.0.1:port that shares the port (SO_REUSEADDR, SO_REUSEPORT). */
static int shared_udp_socket(unsigned short port, struct sockaddr_in *a)
{
    int one = 1, fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    memset(a, 0, sizeof *a);
    a->sin_family = AF_INET;
    a->sin_port = htons(port);
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0 ||
        bind(fd, (struct sockaddr *)a, sizeof *a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

int tf_replay_udp_listen(long port, unsigned *bound)
{
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    int fd = shared_udp_socket((unsigned short)port, &a);
    if (fd < 0 || getsockname(fd, (struct sockaddr *)&a, &len) != 0 ||
        fcntl(fd, F_SETFL, O_NONBLOCK) != 0) {
        fprintf(stderr, "tlsfit-replay: cannot listen on UDP 127.0.0.1:%ld: %s\n", port,
                strerror(errno));
        if (fd >= 0) close(fd);
        return -1;
    }
    *bound = ntohs(a.sin_port);
    return fd;
}

SSL *tf_replay_dtls_listen(SSL_CTX *ctx, int lfd, BIO_ADDR *peer)
{
    SSL *ssl = SSL_new(ctx);
    BIO *bio = BIO_new_dgram(lfd, BIO_NOCLOSE);
    if (ssl == NULL || bio == NULL) {
        SSL_free(ssl);
        BIO_free(bio);
        return NULL;
    }
    SSL_set_bio(ssl, bio, bio);
    SSL_set_options(ssl, SSL_OP_COOKIE_EXCHANGE);
    if (DTLSv1_listen(ssl, peer) > 0) return ssl;
    SSL_free(ssl);
    return NULL;
}

int tf_replay_dtls_session(SSL *ssl, unsigned port, const BIO_ADDR *peer, long mtu,
                           enum tf_replay_proof proof)
{
    struct sockaddr_in a;
    struct sockaddr_in to;
    size_t addr_len = sizeof to.sin_addr;
    int fd = shared_udp_socket((unsigned short)port, &a);
    BIO *bio = SSL_get_rbio(ssl);
    memset(&to, 0, sizeof to);
    to.sin_family = AF_INET;
    to.sin_port = BIO_ADDR_rawport(peer);
    if (fd < 0 || BIO_ADDR_family(peer) != AF_INET ||
        !BIO_ADDR_rawaddress(peer, &to.sin_addr, &addr_len) ||
        connect(fd, (struct sockaddr *)&to, sizeof to) != 0) {
        if (fd >= 0) close(fd);
        SSL_free(ssl);
        return 1;
    }
    BIO_set_fd(bio, fd, BIO_NOCLOSE);
    BIO_ctrl(bio, BIO_CTRL_DGRAM_SET_CONNECTED, 0, (void *)peer);
    if (mtu > 0) {
        SSL_set_options(ssl, SSL_OP_NO_QUERY_MTU);
        SSL_set_mtu(ssl, mtu);
    }
    return tf_replay_serve_ssl(ssl, fd, proof);
}
