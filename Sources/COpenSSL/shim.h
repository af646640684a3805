#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <openssl/x509_vfy.h>
#include <openssl/pem.h>
#include <openssl/err.h>
#include <openssl/conf.h>

/* OpenSSL's stack and free helpers are macros, which Swift does not import. */
static inline STACK_OF(X509) *kofu_sk_X509_new_null(void) { return sk_X509_new_null(); }
static inline int kofu_sk_X509_push(STACK_OF(X509) *stack, X509 *cert) { return sk_X509_push(stack, cert); }
static inline void kofu_sk_X509_pop_free(STACK_OF(X509) *stack) { sk_X509_pop_free(stack, X509_free); }
static inline void kofu_OPENSSL_free(void *p) { OPENSSL_free(p); }
static inline void kofu_sk_X509_free(STACK_OF(X509) *stack) { sk_X509_free(stack); }
static inline int kofu_sk_X509_num(const STACK_OF(X509) *stack) { return sk_X509_num(stack); }
static inline X509 *kofu_sk_X509_value(const STACK_OF(X509) *stack, int i) { return sk_X509_value(stack, i); }

/* CardAuth: CRL stacks, policy OID stacks, the verify callback's context, memory BIOs. */
static inline STACK_OF(X509_CRL) *kofu_sk_X509_CRL_new_null(void) { return sk_X509_CRL_new_null(); }
static inline int kofu_sk_X509_CRL_push(STACK_OF(X509_CRL) *stack, X509_CRL *crl) { return sk_X509_CRL_push(stack, crl); }
static inline void kofu_sk_X509_CRL_free(STACK_OF(X509_CRL) *stack) { sk_X509_CRL_free(stack); }
static inline STACK_OF(ASN1_OBJECT) *kofu_sk_ASN1_OBJECT_new_null(void) { return sk_ASN1_OBJECT_new_null(); }
static inline int kofu_sk_ASN1_OBJECT_push(STACK_OF(ASN1_OBJECT) *stack, ASN1_OBJECT *obj) { return sk_ASN1_OBJECT_push(stack, obj); }
static inline void kofu_sk_ASN1_OBJECT_pop_free(STACK_OF(ASN1_OBJECT) *stack) { sk_ASN1_OBJECT_pop_free(stack, ASN1_OBJECT_free); }
static inline int kofu_X509_STORE_CTX_set_app_data(X509_STORE_CTX *ctx, void *data) { return X509_STORE_CTX_set_app_data(ctx, data); }
static inline void *kofu_X509_STORE_CTX_get_app_data(X509_STORE_CTX *ctx) { return X509_STORE_CTX_get_app_data(ctx); }
static inline long kofu_BIO_get_mem_data(BIO *bio, char **data) { return BIO_get_mem_data(bio, data); }
static inline unsigned long kofu_XN_FLAG_RFC2253(void) { return XN_FLAG_RFC2253; }
static inline int kofu_sk_POLICYINFO_num(const STACK_OF(POLICYINFO) *stack) { return sk_POLICYINFO_num(stack); }
static inline POLICYINFO *kofu_sk_POLICYINFO_value(const STACK_OF(POLICYINFO) *stack, int i) { return sk_POLICYINFO_value(stack, i); }
