#ifndef SWIFTJINGLE_CLIBOPUS_SHIM_H
#define SWIFTJINGLE_CLIBOPUS_SHIM_H
#include <opus/opus.h>

/* opus_encoder_ctl is variadic and its requests are macros: typed wrappers. */
static inline int sj_opus_set_bitrate(OpusEncoder *e, opus_int32 bitrate) {
    return opus_encoder_ctl(e, OPUS_SET_BITRATE(bitrate));
}
static inline int sj_opus_set_inband_fec(OpusEncoder *e, opus_int32 on) {
    return opus_encoder_ctl(e, OPUS_SET_INBAND_FEC(on));
}
static inline int sj_opus_set_packet_loss_perc(OpusEncoder *e, opus_int32 percent) {
    return opus_encoder_ctl(e, OPUS_SET_PACKET_LOSS_PERC(percent));
}
static inline int sj_opus_set_complexity(OpusEncoder *e, opus_int32 complexity) {
    return opus_encoder_ctl(e, OPUS_SET_COMPLEXITY(complexity));
}
static const int sj_OPUS_APPLICATION_VOIP = OPUS_APPLICATION_VOIP;
static const int sj_OPUS_OK = OPUS_OK;
#endif
