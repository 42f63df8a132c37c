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

/* 100..199: client <-> OSD operations (common/osd_proto.h) */
#define MSG_OSD_OP 100      /* client -> primary: struct osd_op_req + input data */
#define MSG_OSD_OPREPLY 101 /* primary -> client: struct osd_op_reply + output data */

/* 200..299: OSD <-> OSD: replication, heartbeats, peering, recovery (osd/osd_msgs.h) */
#define MSG_OSD_REPOP 200       /* primary -> replica: one PG log entry + its transaction */
#define MSG_OSD_REPOPREPLY 201  /* replica -> primary: committed (or error) */
#define MSG_OSD_PING 202        /* heartbeat (own messenger, separate from client traffic) */
#define MSG_OSD_PING_REPLY 203
/* 210..239: peering (info/log/notify queries), 240..269: recovery (push/pull); see issue 8 */

/* 300..399: MDS (reserved) */

#endif
