/*
 * psk_key.c -- the measure firmware's pre-shared key (a header from `tlsfit
 * gen --psk-identity` defines TLSFIT_PSK_IDENTITY).
 *
 * The key is never in the image (images are cached, and a device keeps its
 * key out of its firmware): the relay (tool/tlsfit/target/relay.py) sends it
 * over the UART before any TLS byte, as one frame -- a length byte (1-64)
 * and the key -- and tf_fw_psk() reads it, gives it to the configuration
 * (mbedtls_ssl_conf_psk keeps its own copy) and wipes its buffer.
 */
#include "psk_key.h"

#if defined(TLSFIT_PSK_IDENTITY)

#include "mbedtls/platform_util.h"

#include "tls_harness.h"
#include "tlsfit_fw.h"
#include "../errors/errors.h"
#include "../harness/psk.h"

#define TF_FW_PSK_MAX 64

int tf_fw_psk(mbedtls_ssl_config *conf, const char **what)
{
    unsigned char len = 0;
    unsigned char key[TF_FW_PSK_MAX];
    if (tf_uart_read(&len, 1, tf_run.uart_timeout_polls) != 1 || len == 0 ||
        len > TF_FW_PSK_MAX || tf_uart_read(key, len, tf_run.uart_timeout_polls) != len) {
        *what = TF_ERROR_NAME(TLSFIT_PSK_KEY);
        return -1;
    }
    int ret = tf_harness_psk(conf, key, len, TLSFIT_PSK_IDENTITY);
    mbedtls_platform_zeroize(key, sizeof(key));
    if (ret == -1) {
        *what = TF_ERROR_NAME(TLSFIT_NO_PSK);
        return -1;
    }
    return ret;
}

#endif
