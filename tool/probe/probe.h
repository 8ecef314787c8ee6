/*
 * probe.h -- the probe as a sequence of steps filling a profile.
 *
 * Each step (versions, suites per version, groups per version, signature
 * schemes per version, full flights, max_fragment_length,
 * record_size_limit, ALPN) is a unit with its own status: a step that fails
 * (a timeout, a server that resets mid-way) records why in `steps` and leaves
 * everything the other steps learned intact.  Only the versions step is
 * fatal: without an accepted version there is nothing to probe.
 */
#ifndef TF_PROBE_H
#define TF_PROBE_H

#include <stddef.h>
#include <stdint.h>

#include <stdio.h>

#include "dtls.h"
#include "net.h"
#include "psk.h"
#include "resume.h"

/* Version slots: 0 = TLS 1.0 ... 3 = TLS 1.3. */
#define TF_NV 4
#define TF_MAX_LIST 96
#define TF_MAX_STEPS 26

/* The slot a DTLS 1.2 target's version is recorded in: DTLS 1.2 is TLS 1.2's handshake on datagrams
   (DTLS 1.3 and 1.0 are not probed). */
#define TF_DTLS_SLOT 2

static inline uint16_t tf_slot_version(int slot) { return (uint16_t)(0x0301 + slot); }

typedef struct {
    char name[32];
    int ran;
    int ok;
    int code;              /* errors.h code when !ok */
    char reason[512];
    char note[384];        /* what the step learned about the server beyond its offer ("" when nothing) */
} tf_step;

typedef struct {
    tf_target *target;
    const char *const *ca_paths;   /* --ca bundles, searched before the system store */
    size_t nca;
    int system_store;              /* search TF_SYSTEM_BUNDLE too */
    int progress;                  /* step lines on stderr */

    int accepted[TF_NV];
    uint16_t suites[TF_NV][TF_MAX_LIST];
    size_t nsuites[TF_NV];
    int server_pref[TF_NV];        /* -1 undecidable, 0 client order, 1 server order */
    uint16_t groups[TF_NV][TF_MAX_LIST];
    size_t ngroups[TF_NV];
    uint16_t group_pref[TF_NV];    /* 0 = none */
    uint16_t sigalgs[TF_NV][TF_MAX_LIST];
    size_t nsigalgs[TF_NV];
    int sigalg_unoffered[TF_NV];   /* the server signed with a scheme not offered */

    int kx_known[TF_NV];           /* key_exchange[v] learned from a full flight */
    uint16_t kx_group[TF_NV];
    unsigned kx_dh_bits[TF_NV];

    uint8_t *cert_msg;             /* Certificate message the chain comes from */
    size_t cert_msg_len;
    int chain_slot;                /* version slot it came from, -1 none */
    uint8_t *certreq_msg;
    size_t certreq_msg_len;
    int certreq_slot;
    int client_cert_requested;
    struct tf_client_id *client;   /* --client-cert/--client-key (clientid.h), NULL without: the
                                      resumption step presents it to a server that asks */

    size_t max_record_len, max_plain_len, max_hs_len;
    int mfl_honoured;              /* -1 untested */
    int rsl_acked;
    uint16_t rsl;
    int rsl_honoured;
    int ext_known;                 /* TLS 1.2 extension facts measured */
    int ems, ticket, renego;
    int etm_known;                 /* a TLS 1.2 CBC suite was accepted, so encrypt_then_mac was tested */
    int etm;
    char alpn[64];                 /* the protocol the server selected in the alpn step, "" none */
    uint8_t alpn_list[256];        /* --alpn as a protocol_name_list, sent in every hello; empty = none */
    size_t alpn_list_len;
    char alpn_offered[300];        /* the list the alpn step offered, "P1,P2" */
    int alpn_required;             /* -1 unknown; 1 a hello without ALPN was refused where one with it was not */

    tf_step steps[TF_MAX_STEPS];
    size_t nsteps;
    long long elapsed_ms;
    char probed_at[32];
    int fatal;                     /* errors.h code when the probe as a whole failed */
    char fatal_detail[512];
    tf_resume_facts resume[2];     /* the resumption step: [0] TLS 1.2, [1] TLS 1.3 */
    int resume_ran[2];
    const tf_psk_secret *psk;      /* --psk-identity/--psk-key-fd, NULL without: the psk step runs with it */
    tf_psk_facts psk_facts;
    int psk_ran;
    tf_dtls_facts dtls;            /* DTLS targets: the transport's facts, merged over connections */
    int cid;                       /* DTLS: a ServerHello echoed connection_id */
    uint8_t cid_len;               /* ... the length of the CID the server chose */
    int timeouts_in_a_row;         /* connections in a row that ended at a timeout (probe.c STALL_LIMIT) */
} tf_profile;

/* Initialises p (target and options filled by the caller afterwards). */
void tf_profile_init(tf_profile *p);
void tf_profile_free(tf_profile *p);

/* Runs every step.  Returns 0, or the fatal error code (p->fatal_detail set). */
int tf_probe_run(tf_profile *p);

/* Writes the profile as schema-1 JSON.  0, or TF_ERR_OUTPUT / TF_ERR_NOMEM. */
int tf_profile_write(const tf_profile *p, FILE *f);

#endif
