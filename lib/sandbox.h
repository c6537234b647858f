/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * sandbox.h - run untrusted-input code in a child process that holds no
 * privilege, and restart it when it dies. Generic: the feed worker is the
 * first user (fwclient.h); the HTTP API's TLS side and the fleet client can
 * use the same handle with their own program, argv and seccomp profile.
 * Included by lib/ code and the daemon; not by BPF code.
 *
 * Process edge: the parent (root bwctld) and the child talk over ONE
 * socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC). SOCK_STREAM because the
 * messages (wire.h) are larger than any datagram the kernel accepts without
 * raising wmem limits, and the framing validates itself anyway; a partial
 * write is queued by the parent, never blocked on. The parent's end is
 * non-blocking and close-on-exec.
 *
 * Child side, in this order, between fork and exec (bwe_sandbox_start):
 *   PR_SET_PDEATHSIG SIGKILL; stdin and stdout on /dev/null, stderr kept
 *   (the daemon's log) unless conf.quiet; the socket on BWE_SANDBOX_FD;
 *   RLIMIT_DATA (soft and hard) set to conf.data_limit when non-zero, so a
 *   body or parse that needs more fails with ENOMEM in the child only;
 *   every other fd closed (close_range); ambient capabilities cleared; the
 *   whole bounding set dropped; setgroups(0), setresgid and setresuid to
 *   conf.user (looked up with getpwnam in the parent, before fork);
 *   capset all zero; setuid(0) verified to fail; PR_SET_NO_NEW_PRIVS 1;
 *   then execve(conf.path, conf.argv) with a short, filtered environment
 *   (PATH, TZ, proxy variables, RES_OPTIONS, BWE_SECCOMP). A step that fails ends the
 *   child with a fixed exit code that bwe_sandbox_describe() names.
 *
 * The child, after its own initialisation, calls bwe_sandbox_enter() with
 * its seccomp profile: from then on any syscall outside the profile kills
 * the process (SIGSYS, seen by the parent as "killed by signal 31
 * (seccomp violation)"). Environment BWE_SECCOMP=log|errno|trap turns the
 * kill into a kernel log line, -ENOSYS, or a SIGSYS handler that prints the
 * syscall number on stderr and returns -ENOSYS: for development only; the
 * default and the tests kill.
 *
 * Restart policy: the handle counts consecutive failures; the next start
 * is allowed at end time + backoff_min << (failures - 1), at most
 * backoff_max. A child that ran at least backoff_max before it ended
 * resets the count. The event loop asks bwe_sandbox_restart_at(); nothing
 * here sleeps or blocks, except bwe_sandbox_free(), which SIGKILLs and
 * reaps (a killed child ends at once).
 *
 * Times are CLOCK_MONOTONIC milliseconds (bwe_sandbox_now_ms()). All
 * functions return 0 or -errno unless stated otherwise. Not thread-safe.
 */
#ifndef BWE_SANDBOX_H
#define BWE_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <linux/types.h>

#define BWE_SANDBOX_FD		   3	    /* the socket, in the child */
#define BWE_SANDBOX_USER	   "nobody" /* default unprivileged user */
#define BWE_SANDBOX_BACKOFF_MIN_MS 1000
#define BWE_SANDBOX_BACKOFF_MAX_MS 60000
#define BWE_SANDBOX_WHY_MAX	   128 /* bytes of a "how it ended" text */

/* Exit codes of a child that failed before exec (bwe_sandbox_describe). */
enum bwe_sandbox_exit {
	BWE_SANDBOX_EXIT_FDS = 120,	/* fd setup */
	BWE_SANDBOX_EXIT_CAPS = 121,	/* capability drop */
	BWE_SANDBOX_EXIT_USER = 122,	/* setgroups/setgid/setuid */
	BWE_SANDBOX_EXIT_NNP = 123,	/* PR_SET_NO_NEW_PRIVS */
	BWE_SANDBOX_EXIT_EXEC = 124,	/* execve */
	BWE_SANDBOX_EXIT_SECCOMP = 125, /* the child's bwe_sandbox_enter failed */
	BWE_SANDBOX_EXIT_RLIMIT = 126,	/* setrlimit(RLIMIT_DATA) */
	BWE_SANDBOX_EXIT_NOMEM = 127,	/* the child ran out of memory (its data limit) */
};

struct bwe_sandbox_conf {
	const char *name;	     /* for messages: "feed worker" */
	const char *path;	     /* program to exec ("/proc/self/exe") */
	char *const *argv;	     /* NULL-terminated, argv[0] included */
	const char *user;	     /* NULL: BWE_SANDBOX_USER */
	unsigned int backoff_min_ms; /* 0: BWE_SANDBOX_BACKOFF_MIN_MS */
	unsigned int backoff_max_ms; /* 0: BWE_SANDBOX_BACKOFF_MAX_MS */
	bool quiet;		     /* stderr on /dev/null too */
	__u64 data_limit;	     /* RLIMIT_DATA of the child, bytes (heap and
				      * private mappings); 0: inherited */
};

struct bwe_sandbox;

/* Copies conf (strings and argv) and looks the user up. -ENOENT: no such user. */
int bwe_sandbox_new(const struct bwe_sandbox_conf *conf, struct bwe_sandbox **out);
/* SIGKILL and reap a running child, close the socket, free. NULL-safe. */
void bwe_sandbox_free(struct bwe_sandbox *sb);

/*
 * Fork and exec the child now (the caller checked restart_at). -EBUSY when
 * one runs. The new socket is bwe_sandbox_fd(); register it with epoll.
 */
int bwe_sandbox_start(struct bwe_sandbox *sb);
/* The parent's end of the socket, -1 when no child runs. */
int bwe_sandbox_fd(const struct bwe_sandbox *sb);
/* The child's pid, 0 when none. */
pid_t bwe_sandbox_pid(const struct bwe_sandbox *sb);
/* True from start until the end is reaped (the socket may be closed already). */
bool bwe_sandbox_running(const struct bwe_sandbox *sb);

/*
 * The child misbehaved (garbage, hung): SIGKILL it and close the socket at
 * once; why is kept as the reason of its end. Reap later with
 * bwe_sandbox_reap(). No-op when none runs.
 */
void bwe_sandbox_kill(struct bwe_sandbox *sb, const char *why);
/*
 * waitpid(WNOHANG). Returns 1 when the child has ended (why gets "exit code
 * 2", "killed by signal 31 (seccomp violation)", or the reason given to
 * bwe_sandbox_kill; the socket is closed and the back-off advanced), 0 while
 * it runs or none was started, -errno.
 */
int bwe_sandbox_reap(struct bwe_sandbox *sb, char *why, size_t len);
/* Monotonic ms at which a start is allowed (now or earlier: at once). */
__u64 bwe_sandbox_restart_at(const struct bwe_sandbox *sb);
/* Children started so far, minus the first. */
unsigned int bwe_sandbox_restarts(const struct bwe_sandbox *sb);
/* Text of a waitpid() status, as in bwe_sandbox_reap. */
void bwe_sandbox_describe(int wstatus, char *why, size_t len);
__u64 bwe_sandbox_now_ms(void);

/* ---- child side ------------------------------------------------------------ */

/*
 * A seccomp allowlist. allow: syscall names (libseccomp spelling), NULL
 * terminated; names unknown on this architecture are skipped. flags add
 * argument-checked rules.
 */
enum bwe_seccomp_flag {
	BWE_SC_OPEN_RDONLY = 1, /* open/openat only with O_RDONLY, no O_CREAT/O_TRUNC */
	BWE_SC_SOCKET_NET = 2,	/* socket() for AF_INET, AF_INET6, AF_UNIX only */
	BWE_SC_THREADS = 4,	/* clone() only with CLONE_THREAD (no fork);
					 * clone3 fails ENOSYS so libc falls back */
	BWE_SC_SIGNAL_SELF = 8, /* tgkill/tkill only to this process (abort) */
};

struct bwe_seccomp_profile {
	const char *name;	  /* "feed-worker" */
	const char *const *allow; /* NULL-terminated */
	unsigned int flags;	  /* enum bwe_seccomp_flag */
};

/*
 * In the child, after its own init: PR_SET_NO_NEW_PRIVS (again),
 * PR_SET_DUMPABLE 0, and load the profile; default action
 * SCMP_ACT_KILL_PROCESS unless BWE_SECCOMP says otherwise (see above).
 */
int bwe_sandbox_enter(const struct bwe_seccomp_profile *prof);

/*
 * Child side: write all of buf to the parent's socket (blocking; the child
 * may block, the parent never does). 0 or -errno.
 */
int bwe_sandbox_write_all(int fd, const void *buf, size_t len);

#endif /* BWE_SANDBOX_H */
