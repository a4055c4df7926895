/* Windows 10's system icuuc.dll (Wine 8 has none); Qt6Core imports ICU converters for legacy codecs
   only. Every converter fails to open, so Qt uses its own UTF codecs. */
#include <stdint.h>
#include <stddef.h>
#define E __declspec(dllexport)
static void f(int *e) { if (e && *e <= 0) *e = 16; /* U_UNSUPPORTED_ERROR */ }
E void *ucnv_open(const char *n, int *e) { f(e); return NULL; }
E void ucnv_close(void *c) {}
E void UCNV_FROM_U_CALLBACK_SUBSTITUTE(void) {}
E void UCNV_TO_U_CALLBACK_SUBSTITUTE(void) {}
E void ucnv_reset(void *c) {}
E int8_t ucnv_getMaxCharSize(const void *c) { return 4; }
E const char *ucnv_getName(const void *c, int *e) { f(e); return NULL; }
E void ucnv_getToUCallBack(const void *c, void **a, const void **b) { if (a) *a = 0; if (b) *b = 0; }
E void ucnv_getFromUCallBack(const void *c, void **a, const void **b) { if (a) *a = 0; if (b) *b = 0; }
E void ucnv_setToUCallBack(void *c, void *n, const void *x, void **o, const void **y, int *e) { f(e); }
E void ucnv_setFromUCallBack(void *c, void *n, const void *x, void **o, const void **y, int *e) { f(e); }
E void ucnv_cbToUWriteUChars(void *a, const void *s, int32_t l, int32_t o, int *e) { f(e); }
E void ucnv_cbFromUWriteUChars(void *a, const void **s, const void *l, int32_t o, int *e) { f(e); }
E void ucnv_toUnicode(void *c, void **t, const void *tl, const char **s, const char *sl, int32_t *o, int fl, int *e) { f(e); }
E void ucnv_fromUnicode(void *c, char **t, const char *tl, const void **s, const void *sl, int32_t *o, int fl, int *e) { f(e); }
E int32_t ucnv_toUCountPending(const void *c, int *e) { f(e); return 0; }
E int32_t ucnv_fromUCountPending(const void *c, int *e) { f(e); return 0; }
E const char *ucnv_getStandardName(const char *n, const char *s, int *e) { f(e); return NULL; }
E const char *ucnv_getAvailableName(int32_t n) { return NULL; }
E int32_t ucnv_countAvailable(void) { return 0; }
