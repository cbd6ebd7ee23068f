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
/* ---- ICE target (transportperf): batched UDP sending on the selected pair's socket ---- */
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>
#include <errno.h>
#include <string.h>
#include <netinet/in.h>

/* struct mmsghdr and sendmmsg(2) are _GNU_SOURCE-only in glibc's headers; the kernel ABI is this. */
struct sj_mmsghdr { struct msghdr msg_hdr; unsigned int msg_len; };

/* Sends `count` datagrams to `to` with as few system calls as possible. `gso` (in/out): when non-zero, runs
 * of equal-sized datagrams (the last of a run may be shorter) go out as one UDP GSO send (UDP_SEGMENT,
 * Linux 4.18+, at most 64 segments and 64 KiB); when the kernel refuses GSO itself (EINVAL, EIO, EOPNOTSUPP,
 * ENOPROTOOPT) it is set to 0 and sendmmsg(2) is used. A datagram the kernel refuses for its own reason
 * (EPERM from a local netfilter drop, a pending ICMP error such as ECONNREFUSED) is lost like a datagram
 * dropped by the network and the rest still go: ending the batch there would turn one drop into the loss
 * of the whole batch tail. A refused GSO run is lost whole (the filter judged it as one packet). Sending
 * stops at a full socket buffer (EAGAIN, ENOBUFS): the rest would meet it too. Returns how many datagrams
 * were handed to the kernel (not necessarily a prefix); `*last_error` is the errno of the last refusal, or 0. */
static inline int sj_udp_send_batch(int fd, const struct sockaddr *to, socklen_t tolen,
                                    const void *const *bufs, const unsigned *lens, unsigned count, int *gso,
                                    int *last_error) {
    enum { CHUNK = 64, GSO_MAX_SEGS = 64, GSO_MAX_BYTES = 65000 };
    unsigned done = 0, sent = 0;
    *last_error = 0;
    while (done < count) {
        if (gso && *gso) {
            unsigned seg = lens[done], n = 1, total = lens[done];
            while (done + n < count && n < GSO_MAX_SEGS && lens[done + n] <= seg && total + lens[done + n] <= GSO_MAX_BYTES) {
                total += lens[done + n];
                n++;
                if (lens[done + n - 1] < seg) break;
            }
            if (n > 1) {
                struct iovec iov[GSO_MAX_SEGS];
                for (unsigned i = 0; i < n; i++) { iov[i].iov_base = (void *)bufs[done + i]; iov[i].iov_len = lens[done + i]; }
                union { char buf[CMSG_SPACE(sizeof(uint16_t))]; struct cmsghdr align; } control;
                memset(&control, 0, sizeof control);
                struct msghdr msg;
                memset(&msg, 0, sizeof msg);
                msg.msg_name = (void *)to; msg.msg_namelen = tolen;
                msg.msg_iov = iov; msg.msg_iovlen = n;
                msg.msg_control = control.buf; msg.msg_controllen = sizeof control.buf;
                struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
                cm->cmsg_level = IPPROTO_UDP; cm->cmsg_type = 103 /* UDP_SEGMENT */;
                cm->cmsg_len = CMSG_LEN(sizeof(uint16_t));
                uint16_t size = (uint16_t)seg;
                memcpy(CMSG_DATA(cm), &size, sizeof size);
                ssize_t r;
                do { r = sendmsg(fd, &msg, 0); } while (r < 0 && errno == EINTR);
                if (r >= 0) { done += n; sent += n; continue; }
                *last_error = errno;
                if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) return (int)sent;
                if (errno == EINVAL || errno == EIO || errno == EOPNOTSUPP || errno == ENOPROTOOPT) {
                    *gso = 0; /* not supported here (old kernel, no checksum offload): plain sendmmsg from now on */
                } else {
                    done += n; /* refused as one packet: lost as one */
                    continue;
                }
            }
        }
        unsigned n = count - done < CHUNK ? count - done : CHUNK;
        struct sj_mmsghdr msgs[CHUNK];
        struct iovec iov[CHUNK];
        memset(msgs, 0, sizeof(struct sj_mmsghdr) * n);
        for (unsigned i = 0; i < n; i++) {
            iov[i].iov_base = (void *)bufs[done + i]; iov[i].iov_len = lens[done + i];
            msgs[i].msg_hdr.msg_name = (void *)to; msgs[i].msg_hdr.msg_namelen = tolen;
            msgs[i].msg_hdr.msg_iov = &iov[i]; msgs[i].msg_hdr.msg_iovlen = 1;
        }
        long r;
        do { r = syscall(SYS_sendmmsg, fd, msgs, n, 0); } while (r < 0 && errno == EINTR);
        if (r < 0) {
            /* The first datagram of this call was refused. */
            *last_error = errno;
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) return (int)sent;
            done += 1;
            continue;
        }
        done += (unsigned)r;
        sent += (unsigned)r;
        /* Fewer than asked: the next one was refused, and the kernel does not say why; sending it alone
         * would be a second try at a datagram already refused, so go on after it. Were the buffer full,
         * the next call fails at once with EAGAIN and ends the batch. */
        if ((unsigned)r < n) done += 1;
    }
    return (int)sent;
}

/* Grows a socket's kernel buffers (capped by net.core.[rw]mem_max). */
static inline void sj_socket_set_buffers(int fd, int bytes) {
    if (bytes <= 0) return;
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof bytes);
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
}
/* ---- end ICE target (transportperf) ---- */
#endif
