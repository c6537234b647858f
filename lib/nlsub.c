// SPDX-License-Identifier: GPL-2.0-only
/* nlsub.c - a non-blocking rtnetlink subscription; contract in nlsub.h. */
#include <errno.h>
#include <netlink/socket.h>
#include <netlink/msg.h>

#include "log.h"
#include "nlsub.h"

int bwe_nl_errno(int nlerr)
{
	switch (nlerr < 0 ? -nlerr : nlerr) {
	case 0:
		return 0;
	case NLE_AGAIN:
		return -EAGAIN;
	case NLE_NOMEM:
		return -ENOMEM;
	case NLE_PERM:
		return -EPERM;
	case NLE_NOACCESS:
		return -EACCES;
	case NLE_INVAL:
		return -EINVAL;
	case NLE_BAD_SOCK:
		return -EBADF;
	case NLE_OBJ_NOTFOUND:
		return -ENOENT;
	case NLE_PROTO_MISMATCH:
		return -EPROTONOSUPPORT;
	default:
		return -EIO;
	}
}

int bwe_nlsub_open(struct nl_sock **out, int group, int rcvbuf, nl_recvmsg_msg_cb_t on_msg,
		   void *arg)
{
	struct nl_sock *s = nl_socket_alloc();
	int err;

	if (!s)
		return -ENOMEM;
	/* Notifications carry the kernel's sequence numbers, not ours. */
	nl_socket_disable_seq_check(s);
	err = nl_socket_modify_cb(s, NL_CB_VALID, NL_CB_CUSTOM, on_msg, arg);
	err = err ?: nl_connect(s, NETLINK_ROUTE);
	err = err ?: nl_socket_add_membership(s, group);
	err = err ?: nl_socket_set_nonblocking(s);
	err = err ?: nl_socket_set_buffer_size(s, rcvbuf, 0);
	if (err) {
		log_debug("netlink group %d: %s", group, nl_geterror(err));
		nl_socket_free(s);
		return bwe_nl_errno(err);
	}
	*out = s;
	return 0;
}

int bwe_nlsub_process(struct nl_sock *sock, const int *cb_err, int (*resync)(void *arg), void *arg,
		      const char *what)
{
	int i, err = 0;

	for (i = 0; i < BWE_NLSUB_READS && !*cb_err; i++) {
		err = nl_recvmsgs_default(sock);
		if (err == -NLE_AGAIN) {
			err = 0;
			break;
		}
		if (err == -NLE_NOMEM) {
			/* ENOBUFS: the kernel dropped notifications; read the whole table. */
			log_info("%s: notifications lost, re-reading the table", what);
			err = resync(arg);
			if (err)
				break;
			continue;
		}
		if (err < 0) {
			log_warnx("%s: %s", what, nl_geterror(err));
			err = bwe_nl_errno(err);
			break;
		}
	}
	return *cb_err ?: err;
}
