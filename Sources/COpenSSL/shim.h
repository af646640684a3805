#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <openssl/x509_vfy.h>
#include <openssl/pem.h>
#include <openssl/err.h>

/* OpenSSL's stack and free helpers are macros, which Swift does not import. */
static inline STACK_OF(X509) *kofu_sk_X509_new_null(void) { return sk_X509_new_null(); }
static inline int kofu_sk_X509_push(STACK_OF(X509) *stack, X509 *cert) { return sk_X509_push(stack, cert); }
static inline void kofu_sk_X509_pop_free(STACK_OF(X509) *stack) { sk_X509_pop_free(stack, X509_free); }
static inline void kofu_OPENSSL_free(void *p) { OPENSSL_free(p); }
