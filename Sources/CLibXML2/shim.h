#ifndef SWIFTJINGLE_CLIBXML2_SHIM_H
#define SWIFTJINGLE_CLIBXML2_SHIM_H
#include <libxml/xmlversion.h>
/* Debian builds libxml2 with ICU, so encoding.h would include the system's <unicode/ucnv.h>, whose
   definitions clash with Foundation's bundled ICU in any Swift module that imports both. We never use
   the ICU fields of xmlCharEncodingHandler (we only hold pointers to it), so hide them. */
#undef LIBXML_ICU_ENABLED
#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/SAX2.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlversion.h>

/* xmlFree is a global function pointer; Swift 6 rejects reading it as not concurrency-safe. */
static inline void sj_xmlFree(void *p) { xmlFree(p); }

/* The compiled-in parser version (xmlParserVersion is a global / macro). */
static inline const char *sj_xmlParserVersion(void) { return LIBXML_DOTTED_VERSION; }

/* The parser context's _private slot carries our owner: passing it as SAX user_data crashes
   xmlSAX2StartDocument, which expects the parser context there. */
static inline void *sj_xmlCtxtGetPrivate(void *ctx) { return ((xmlParserCtxtPtr)ctx)->_private; }
static inline void sj_xmlCtxtSetPrivate(xmlParserCtxtPtr ctxt, void *p) { ctxt->_private = p; }

/* Depth of element nesting as libxml2 sees it (for diagnostics). */
static inline int sj_xmlCtxtNameNr(xmlParserCtxtPtr ctxt) { return ctxt->nameNr; }
/* The encoding named in the XML declaration, or NULL. */
static inline const xmlChar *sj_xmlCtxtDeclaredEncoding(xmlParserCtxtPtr ctxt) { return ctxt->encoding; }

/* The parser's string dictionary and whether it owns a string (dict strings live as long as the parser). */
static inline int sj_xmlCtxtDictOwns(xmlParserCtxtPtr ctxt, const xmlChar *str) {
    return ctxt->dict != NULL && xmlDictOwns(ctxt->dict, str) == 1;
}

/* Whether the parser has hit a fatal well-formedness error. */
static inline int sj_xmlCtxtWellFormed(xmlParserCtxtPtr ctxt) { return ctxt->wellFormed; }
/* libxml2 2.9 reports some errors (character-encoding conversion, I/O) through the calling thread's generic
   error handler, which prints them to stderr ("encoding error : input conversion failed …"). We take every
   error from the parser context (xmlCtxtGetLastError) instead, so the parser silences it for its thread. */
__attribute__((unused)) static void sj_xmlSilentGenericError(void *ctx, const char *msg, ...) { (void)ctx; (void)msg; }
static inline void sj_xmlSilenceGenericErrors(void) { xmlSetGenericErrorFunc(NULL, sj_xmlSilentGenericError); }

#endif
