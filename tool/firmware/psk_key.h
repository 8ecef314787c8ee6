/*
 * psk_key.h -- the measure firmware's pre-shared key, read from the UART
 * (psk_key.c).  Only with TLSFIT_PSK_IDENTITY.
 */
#ifndef TF_FW_PSK_KEY_H
#define TF_FW_PSK_KEY_H

#include "mbedtls/ssl.h"

/* Reads the relay's key frame and sets the key and TLSFIT_PSK_IDENTITY on
   conf.  0, the mbedTLS error, or -1 with *what the tlsfit error name
   (TLSFIT_PSK_KEY: no frame; TLSFIT_NO_PSK: no PSK key exchange). */
int tf_fw_psk(mbedtls_ssl_config *conf, const char **what);

#endif
