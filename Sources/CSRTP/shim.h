#ifndef SWIFTJINGLE_CSRTP_SHIM_H
#define SWIFTJINGLE_CSRTP_SHIM_H
#include <srtp2/srtp.h>

/* srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80 is a macro in libsrtp2. */
static inline void sj_srtp_policy_aes_cm_128_hmac_sha1_80(srtp_crypto_policy_t *p) {
    srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(p);
}
static inline void sj_srtp_policy_aes_gcm_128_16_auth(srtp_crypto_policy_t *p) {
    srtp_crypto_policy_set_aes_gcm_128_16_auth(p);
}
static inline void sj_srtp_policy_aes_cm_128_hmac_sha1_32(srtp_crypto_policy_t *p) {
    srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(p);
}
#endif
