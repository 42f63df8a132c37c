/*
 * msg_tcp — the TCP backend of the messenger's transport seam (msg_int.h): non-blocking
 * IPv4 sockets, TCP_NODELAY, vectored I/O with MSG_NOSIGNAL (a dead peer never raises
 * SIGPIPE in a daemon).
 */
#include "common/msg_int.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int tcp_listen(const struct sockaddr_in *sa, struct sockaddr_in *bound)
{
	socklen_t len = sizeof(*bound);
	int fd, one = 1, err;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)sa, sizeof(*sa)) || listen(fd, 512) ||
	    getsockname(fd, (struct sockaddr *)bound, &len))
		goto fail;
	return fd;
fail:
	err = -errno;
	close(fd);
	return err;
}

static int tcp_accept(int lfd, struct sockaddr_in *peer)
{
	socklen_t len = sizeof(*peer);
	int fd;

	fd = accept4(lfd, (struct sockaddr *)peer, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	return fd;
}

static int tcp_connect(const struct sockaddr_in *sa)
{
	int fd, err;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) && errno != EINPROGRESS) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

static int tcp_connect_finish(int fd)
{
	socklen_t len = sizeof(int);
	int err = 0;

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len))
		return -errno;
	return -err;
}

static void tcp_setup(int fd, const struct msg_sockopts *o)
{
	int one = 1;

	if (o->nodelay)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (o->rcvbuf)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &o->rcvbuf, sizeof(int));
	if (o->sndbuf)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &o->sndbuf, sizeof(int));
}

static ssize_t tcp_recvv(int fd, struct iovec *iov, int iovcnt)
{
	ssize_t n;

	do
		n = readv(fd, iov, iovcnt);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	return n;
}

static ssize_t tcp_sendv(int fd, const struct iovec *iov, int iovcnt)
{
	struct msghdr mh;
	ssize_t n;

	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = (struct iovec *)iov;
	mh.msg_iovlen = (size_t)iovcnt;
	do
		n = sendmsg(fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	return n;
}

static void tcp_close(int fd)
{
	close(fd);
}

const struct msg_transport msg_tcp_transport = {
    .name = "tcp",
    .listen = tcp_listen,
    .accept = tcp_accept,
    .connect = tcp_connect,
    .connect_finish = tcp_connect_finish,
    .setup = tcp_setup,
    .recvv = tcp_recvv,
    .sendv = tcp_sendv,
    .close = tcp_close,
};
