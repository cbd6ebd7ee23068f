#ifndef SWIFTJINGLE_CNICE_SHIM_H
#define SWIFTJINGLE_CNICE_SHIM_H
#include <glib.h>
#include <glib-object.h>
#include <gio/gio.h>
#include <nice/agent.h>
#include <nice/debug.h>
#include <nice/address.h>
#include <nice/candidate.h>
#include <nice/pseudotcp.h>
#include <nice/nice-version.h>

/* GObject casts are macros. */
static inline GObject *sj_G_OBJECT(void *p) { return G_OBJECT(p); }
static inline NiceAgent *sj_NICE_AGENT(void *p) { return NICE_AGENT(p); }

/* g_signal_connect is a macro; the handler is a typed callback cast to GCallback by the caller. */
static inline gulong sj_g_signal_connect(gpointer instance, const gchar *signal, GCallback handler, gpointer data) {
    return g_signal_connect_data(instance, signal, handler, data, NULL, (GConnectFlags)0);
}

/* g_object_set / g_object_get are variadic: typed setters and getters, one per property kind. */
static inline void sj_g_object_set_boolean(gpointer obj, const gchar *prop, gboolean v) { g_object_set(obj, prop, v, NULL); }
static inline void sj_g_object_set_uint(gpointer obj, const gchar *prop, guint v) { g_object_set(obj, prop, v, NULL); }
static inline void sj_g_object_set_int(gpointer obj, const gchar *prop, gint v) { g_object_set(obj, prop, v, NULL); }
static inline void sj_g_object_set_string(gpointer obj, const gchar *prop, const gchar *v) { g_object_set(obj, prop, v, NULL); }
static inline gboolean sj_g_object_get_boolean(gpointer obj, const gchar *prop) { gboolean v = FALSE; g_object_get(obj, prop, &v, NULL); return v; }
static inline guint sj_g_object_get_uint(gpointer obj, const gchar *prop) { guint v = 0; g_object_get(obj, prop, &v, NULL); return v; }

/* Libnice (compile-time: libnice has no runtime version call) and GLib (runtime) versions. */
static inline const char *sj_nice_version_text(void) { return G_STRINGIFY(NICE_VERSION_MAJOR) "." G_STRINGIFY(NICE_VERSION_MINOR) "." G_STRINGIFY(NICE_VERSION_MICRO); }
static inline guint sj_glib_major(void) { return glib_major_version; }
static inline guint sj_glib_minor(void) { return glib_minor_version; }
static inline guint sj_glib_micro(void) { return glib_micro_version; }
/* ---- ICE target: candidate fields and lists ---- */
static inline void sj_nice_candidate_set_foundation(NiceCandidate *c, const char *f) { g_strlcpy(c->foundation, f, sizeof c->foundation); }
static inline const char *sj_nice_candidate_foundation(const NiceCandidate *c) { return c->foundation; }
static inline void sj_nice_candidate_list_free(GSList *l) { g_slist_free_full(l, (GDestroyNotify) nice_candidate_free); }
/* ---- end ICE target ---- */
#endif
