#ifndef SWIFTJINGLE_COPENSSL_SHIM_H
#define SWIFTJINGLE_COPENSSL_SHIM_H
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <openssl/ec.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/opensslv.h>

/* Macros and variadic helpers that Swift cannot import, as typed inline functions. */

/* ---- BIO ---- */
static inline long sj_BIO_get_mem_data(BIO *b, char **pp) { return BIO_get_mem_data(b, pp); }
static inline int sj_BIO_set_mem_eof_return(BIO *b, int v) { return (int)BIO_set_mem_eof_return(b, v); }
static inline size_t sj_BIO_pending(BIO *b) { return (size_t)BIO_pending(b); }
static inline size_t sj_BIO_ctrl_pending(BIO *b) { return BIO_ctrl_pending(b); }
static inline int sj_BIO_reset(BIO *b) { return (int)BIO_reset(b); }

/* ---- SSL_CTX / SSL ---- */
static inline long sj_SSL_CTX_set_mode(SSL_CTX *c, long mode) { return SSL_CTX_set_mode(c, mode); }
static inline int sj_SSL_CTX_set_min_proto_version(SSL_CTX *c, int v) { return (int)SSL_CTX_set_min_proto_version(c, v); }
static inline int sj_SSL_CTX_set_max_proto_version(SSL_CTX *c, int v) { return (int)SSL_CTX_set_max_proto_version(c, v); }
static inline int sj_SSL_CTX_set1_groups_list(SSL_CTX *c, const char *l) { return (int)SSL_CTX_set1_groups_list(c, l); }
static inline void sj_SSL_CTX_set_read_ahead(SSL_CTX *c, int yes) { SSL_CTX_set_read_ahead(c, yes); }
static inline uint64_t sj_SSL_CTX_set_options(SSL_CTX *c, uint64_t op) { return (uint64_t)SSL_CTX_set_options(c, op); }
static inline int sj_SSL_set_mtu(SSL *s, long mtu) { return (int)SSL_set_mtu(s, mtu); }
static inline int sj_DTLS_set_link_mtu(SSL *s, long mtu) { return (int)DTLS_set_link_mtu(s, mtu); }
static inline int sj_SSL_set_tlsext_host_name(SSL *s, const char *name) { return (int)SSL_set_tlsext_host_name(s, name); }
static inline int sj_DTLSv1_get_timeout(SSL *s, long *sec, long *usec) {
    struct timeval tv; int r = (int)DTLSv1_get_timeout(s, &tv);
    if (r == 1) { *sec = (long)tv.tv_sec; *usec = (long)tv.tv_usec; }
    return r;
}
static inline int sj_DTLSv1_handle_timeout(SSL *s) { return (int)DTLSv1_handle_timeout(s); }
static inline void sj_OPENSSL_free(void *p) { OPENSSL_free(p); }
static inline EVP_PKEY *sj_EVP_EC_gen(const char *curve) { return EVP_EC_gen(curve); }

/* ---- stacks ---- */
static inline int sj_sk_X509_num(const STACK_OF(X509) *s) { return sk_X509_num(s); }
static inline X509 *sj_sk_X509_value(const STACK_OF(X509) *s, int i) { return sk_X509_value(s, i); }
static inline int sj_sk_SRTP_PROTECTION_PROFILE_num(STACK_OF(SRTP_PROTECTION_PROFILE) *s) {
    return sk_SRTP_PROTECTION_PROFILE_num(s);
}

/* ---- SSL_OP_* constants (invisible to Swift as they are macro expressions) ---- */
static const uint64_t sj_SSL_OP_NO_QUERY_MTU = SSL_OP_NO_QUERY_MTU;
static const uint64_t sj_SSL_OP_NO_TICKET = SSL_OP_NO_TICKET;
static const uint64_t sj_SSL_OP_NO_COMPRESSION = SSL_OP_NO_COMPRESSION;
static const uint64_t sj_SSL_OP_NO_RENEGOTIATION = SSL_OP_NO_RENEGOTIATION;
static const uint64_t sj_SSL_OP_CIPHER_SERVER_PREFERENCE = SSL_OP_CIPHER_SERVER_PREFERENCE;
static const uint64_t sj_SSL_OP_NO_TLSv1_3 = SSL_OP_NO_TLSv1_3;
static const long sj_SSL_MODE_AUTO_RETRY = SSL_MODE_AUTO_RETRY;
static const long sj_SSL_MODE_ENABLE_PARTIAL_WRITE = SSL_MODE_ENABLE_PARTIAL_WRITE;
static const long sj_SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER = SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER;

/* Version string of the OpenSSL in use (not just the headers). */
static inline const char *sj_OpenSSL_version_text(void) { return OpenSSL_version(OPENSSL_VERSION); }

/* ---- DTLS target ---- */
/* SSL_get_ex_new_index is a macro over CRYPTO_get_ex_new_index; the DTLS target keeps its
   connection object in one ex_data slot so that verify and timer callbacks can find it. */
static inline int sj_SSL_get_ex_new_index(void) { return SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL); }
/* ---- end DTLS target ---- */
#endif
