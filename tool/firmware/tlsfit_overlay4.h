/* tlsfit measure: the TLS-side overlay every cross build of an mbedTLS 4.x tree
 * gets, as MBEDTLS_USER_CONFIG_FILE (tlsfit_overlay.h is the 3.x/2.x one).
 * mbedTLS includes it right after the configuration's TLS file
 * (include/mbedtls/build_info.h), after the crypto file and its overlay
 * (tlsfit_overlay_crypto.h), so it may only touch TLS and X.509 options.
 *
 * It only removes what cannot build on a bare-metal target, and only when the
 * configuration has it; each change defines a TLSFIT_OVERLAY_* marker that
 * the firmware reports ("overlay" in the result):
 *
 *   MBEDTLS_NET_C      library/net_sockets.c: "#error This module only works
 *                      on Unix and Windows" (the firmware's transport is its UART)
 *   MBEDTLS_TIMING_C   library/timing.c: the same #error
 *
 * (shared/upstream's README, "Cross, Cortex-M4": obstacle 5 of the default
 * configuration.) */
#ifndef TLSFIT_OVERLAY4_H
#define TLSFIT_OVERLAY4_H

#if defined(MBEDTLS_NET_C)
#undef MBEDTLS_NET_C
#define TLSFIT_OVERLAY_NO_NET_C
#endif

#if defined(MBEDTLS_TIMING_C)
#undef MBEDTLS_TIMING_C
#define TLSFIT_OVERLAY_NO_TIMING_C
#endif

#endif
