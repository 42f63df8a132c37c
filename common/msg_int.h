/*
 * msg_int — the messenger's transport seam, shared by msg.c (connection state machine,
 * queues, sessions) and one file per transport backend (msg_tcp.c now; msg_rdma.c later).
 *
 * The core speaks to a transport only through struct msg_transport: a stream of bytes
 * moved with vectored send/receive on a pollable fd that the worker's libev loop watches.
 * TCP maps onto it directly. An RDMA verbs backend fits the same seam (docs/messenger.md):
 * its fd is the completion channel's, connect/accept ride on librdmacm, recvv copies out of
 * pre-posted receive buffers (returning credits to the peer), and sendv posts sends from
 * registered memory; large data payloads would bypass recvv via RDMA read into the
 * message's data buffer (the core already reads data straight into that buffer).
 */
#ifndef CAIRN_MSG_INT_H
#define CAIRN_MSG_INT_H

#include <netinet/in.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

struct msg_sockopts {
	int nodelay;
	int rcvbuf; /* 0: kernel default */
	int sndbuf;
};

struct msg_transport {
	const char *name;
	/* Listening endpoint bound to sa (port 0: any); *bound gets the real address.
	 * Returns a non-blocking fd or a negative errno. */
	int (*listen)(const struct sockaddr_in *sa, struct sockaddr_in *bound);
	/* Next pending connection as a non-blocking fd; -EAGAIN when none. */
	int (*accept)(int lfd, struct sockaddr_in *peer);
	/* Starts a non-blocking connect; the fd turns writable when it finishes. */
	int (*connect)(const struct sockaddr_in *sa);
	/* After writability: 0 when connected, else the negative errno of the failure. */
	int (*connect_finish)(int fd);
	void (*setup)(int fd, const struct msg_sockopts *o);
	/* Bytes moved, 0 on EOF (recv only), -EAGAIN when it would block, or -errno. */
	ssize_t (*recvv)(int fd, struct iovec *iov, int iovcnt);
	ssize_t (*sendv)(int fd, const struct iovec *iov, int iovcnt);
	void (*close)(int fd);
};

extern const struct msg_transport msg_tcp_transport;

#endif
