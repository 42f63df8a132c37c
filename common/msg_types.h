/*
 * msg_types — the one registry of message type ids. An id is never reused or renumbered,
 * even after its message is retired (rolling upgrades depend on it). Each range has an owner.
 */
#ifndef CAIRN_MSG_TYPES_H
#define CAIRN_MSG_TYPES_H

/* 1..15: messenger-internal (keepalive etc. live in the frame layer, not here). A MSG frame
 * with type 0 or an unlisted type below 16 is malformed and closes the connection. */
#define MSG_MSGR_TEST 1       /* messenger tests and cairn-msgbench: request / one-way */
#define MSG_MSGR_TEST_REPLY 2 /* messenger tests and cairn-msgbench: reply */
#define MSG_MSGR_LAST_ 2      /* highest messenger-internal type in use */

/* 16..99: monitor protocol (mon/, common/monc); bodies in common/mon_proto.h */
#define MSG_MON_SUBSCRIBE      16 /* struct mon_subscribe */
#define MSG_MON_OSDMAP         17 /* struct mon_osdmap_msg */
#define MSG_MON_GET_OSDMAP     18 /* struct mon_get_osdmap */
#define MSG_MON_OSD_BOOT       19 /* struct mon_osd_boot */
#define MSG_MON_OSD_FAILURE    20 /* struct mon_osd_failure */
#define MSG_MON_OSD_ALIVE      21 /* struct mon_osd_alive */
#define MSG_MON_PG_STATS       22 /* struct mon_pg_stats */
#define MSG_MON_COMMAND        23 /* struct mon_command (tid echoed in the reply) */
#define MSG_MON_COMMAND_REPLY  24 /* struct mon_command_reply */
/* 25..29 reserved for the MDS map (beacon, mdsmap push) */
#define MSG_MON_PG_LA          30 /* struct mon_pg_la_msg: store / read PG last-active records */
#define MSG_MON_PG_LA_REPLY    31 /* struct mon_pg_la_msg: the mon's records after the request */

/* 100..199: client <-> OSD operations (common/osd_proto.h) */
#define MSG_OSD_OP 100      /* client -> primary: struct osd_op_req + input data */
#define MSG_OSD_OPREPLY 101 /* primary -> client: struct osd_op_reply + output data */

/* 200..299: OSD <-> OSD: replication, heartbeats, peering, recovery (osd/osd_msgs.h) */
#define MSG_OSD_REPOP 200       /* primary -> replica: one PG log entry + its transaction */
#define MSG_OSD_REPOPREPLY 201  /* replica -> primary: committed (or error) */
#define MSG_OSD_PING 202        /* heartbeat (own messenger, separate from client traffic) */
#define MSG_OSD_PING_REPLY 203
#define MSG_OSD_PG_QUERY 210    /* primary -> acting OSD: send me your PG info */
#define MSG_OSD_PG_NOTIFY 211   /* its answer: the PG info (last_update) */
#define MSG_OSD_PG_PULL 212     /* primary -> OSD ahead of it: push me your log after `since` */
/* 213..239: peering (more to come with issue 8), 240..269: recovery (push/pull) */
#define MSG_REC_QUERY 213       /* primary -> any up OSD: your info, log, missing (osd/rec_msgs.h) */
#define MSG_REC_NOTIFY 214      /* -> primary: info, log, missing set, last-active, backfill pos */
#define MSG_REC_ACTIVATE 215    /* primary -> acting: authoritative log, your missing / backfill */
#define MSG_REC_REMOVE 216      /* primary of a clean PG -> stray: delete your copy */
#define MSG_REC_REMOVE_REPLY 217 /* stray -> primary: removed (0, -ENOENT) or kept (-EBUSY...) */
#define MSG_REC_PUSH 240        /* whole object (data, xattrs, omap, or its absence) -> target */
#define MSG_REC_PUSH_REPLY 241  /* target -> primary: committed */
#define MSG_REC_PULL 242        /* primary -> source: push me this object */
#define MSG_REC_BACKFILL 243    /* primary -> backfill target: range, keep list, new boundary */
#define MSG_REC_BACKFILL_REPLY 244
#define MSG_PG_REC_LAST_ 269    /* end of the recovery block */

/* 300..399: MDS (reserved) */

#endif
