// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * sandbox.c - spawn an unprivileged, seccomp-confined child over a
 * socketpair, reap it, and restart it with back-off (sandbox.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sched.h>
#include <seccomp.h>

#include "sandbox.h"

#define CAP_PROBE_MAX 64 /* capability numbers tried for the bounding set */
#define ENV_MAX	      16 /* variables passed to the child */

/* Variables the child may see; everything else of root's environment stays. */
static const char *const env_keep[] = {
	"PATH",	       "TZ",	      "http_proxy", "https_proxy", "HTTP_PROXY",
	"HTTPS_PROXY", "no_proxy",    "NO_PROXY",   "all_proxy",   "ALL_PROXY",
	"RES_OPTIONS", "BWE_SECCOMP", NULL,
};

struct bwe_sandbox {
	char *name, *path, **argv;
	uid_t uid;
	gid_t gid;
	unsigned int backoff_min_ms, backoff_max_ms;
	bool quiet;
	__u64 data_limit; /* bytes, 0: inherited */
	pid_t pid;	  /* 0: none */
	int fd;		  /* parent's end, -1: none */
	__u64 started_ms, restart_at_ms;
	unsigned int starts, failures;
	char kill_why[BWE_SANDBOX_WHY_MAX];
};

__u64 bwe_sandbox_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000 + (__u64)ts.tv_nsec / 1000000;
}

static void free_argv(char **argv)
{
	size_t i;

	for (i = 0; argv && argv[i]; i++)
		free(argv[i]);
	free(argv);
}

int bwe_sandbox_new(const struct bwe_sandbox_conf *conf, struct bwe_sandbox **out)
{
	struct bwe_sandbox *sb;
	struct passwd *pw;
	size_t n = 0, i;

	if (!conf || !conf->path || !conf->argv || !conf->argv[0])
		return -EINVAL;
	errno = 0;
	pw = getpwnam(conf->user ? conf->user : BWE_SANDBOX_USER);
	if (!pw)
		return errno ? -errno : -ENOENT;
	if (!pw->pw_uid || !pw->pw_gid)
		return -EPERM; /* a sandbox as root is no sandbox */
	sb = calloc(1, sizeof(*sb));
	if (!sb)
		return -ENOMEM;
	while (conf->argv[n])
		n++;
	sb->argv = calloc(n + 1, sizeof(char *));
	sb->name = strdup(conf->name ? conf->name : "sandbox");
	sb->path = strdup(conf->path);
	if (!sb->argv || !sb->name || !sb->path)
		goto nomem;
	for (i = 0; i < n; i++)
		if (!(sb->argv[i] = strdup(conf->argv[i])))
			goto nomem;
	sb->uid = pw->pw_uid;
	sb->gid = pw->pw_gid;
	sb->backoff_min_ms = conf->backoff_min_ms ? conf->backoff_min_ms
						  : BWE_SANDBOX_BACKOFF_MIN_MS;
	sb->backoff_max_ms = conf->backoff_max_ms ? conf->backoff_max_ms
						  : BWE_SANDBOX_BACKOFF_MAX_MS;
	if (sb->backoff_max_ms < sb->backoff_min_ms)
		sb->backoff_max_ms = sb->backoff_min_ms;
	sb->quiet = conf->quiet;
	sb->data_limit = conf->data_limit;
	sb->fd = -1;
	*out = sb;
	return 0;
nomem:
	free_argv(sb->argv);
	free(sb->name);
	free(sb->path);
	free(sb);
	return -ENOMEM;
}

void bwe_sandbox_free(struct bwe_sandbox *sb)
{
	if (!sb)
		return;
	if (sb->pid > 0) {
		kill(sb->pid, SIGKILL);
		while (waitpid(sb->pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	if (sb->fd >= 0)
		close(sb->fd);
	free_argv(sb->argv);
	free(sb->name);
	free(sb->path);
	free(sb);
}

int bwe_sandbox_fd(const struct bwe_sandbox *sb)
{
	return sb->fd;
}

pid_t bwe_sandbox_pid(const struct bwe_sandbox *sb)
{
	return sb->pid;
}

bool bwe_sandbox_running(const struct bwe_sandbox *sb)
{
	return sb->pid > 0;
}

__u64 bwe_sandbox_restart_at(const struct bwe_sandbox *sb)
{
	return sb->restart_at_ms;
}

unsigned int bwe_sandbox_restarts(const struct bwe_sandbox *sb)
{
	return sb->starts ? sb->starts - 1 : 0;
}

/* ---- between fork and exec: async-signal-safe calls only ---------------------- */

/* Ambient and bounding sets; needs CAP_SETPCAP, so before the uid change. */
static void drop_cap_sets(void)
{
	int cap;

	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) && errno != EINVAL)
		_exit(BWE_SANDBOX_EXIT_CAPS);
	for (cap = 0; cap < CAP_PROBE_MAX; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0)) {
			if (errno == EINVAL)
				break; /* past the kernel's last capability */
			_exit(BWE_SANDBOX_EXIT_CAPS);
		}
}

/* Effective, permitted, inheritable: the uid change cleared them; make it explicit. */
static void clear_caps(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	memset(data, 0, sizeof(data));
	if (syscall(SYS_capset, &h, data))
		_exit(BWE_SANDBOX_EXIT_CAPS);
}

__attribute__((noreturn)) static void child_exec(const struct bwe_sandbox *sb, int sock,
						 char **envp)
{
	sigset_t none;
	int null, s;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0))
		_exit(BWE_SANDBOX_EXIT_FDS);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	null = open("/dev/null", O_RDWR);
	s = fcntl(sock, F_DUPFD_CLOEXEC, BWE_SANDBOX_FD + 1);
	if (null < 0 || s < 0 || dup2(null, STDIN_FILENO) < 0 || dup2(null, STDOUT_FILENO) < 0)
		_exit(BWE_SANDBOX_EXIT_FDS);
	if ((sb->quiet || fcntl(STDERR_FILENO, F_GETFD) < 0) && dup2(null, STDERR_FILENO) < 0)
		_exit(BWE_SANDBOX_EXIT_FDS);
	if (dup2(s, BWE_SANDBOX_FD) < 0 || close_range(BWE_SANDBOX_FD + 1, ~0U, 0))
		_exit(BWE_SANDBOX_EXIT_FDS);
	if (sb->data_limit) {
		struct rlimit rl = { .rlim_cur = sb->data_limit, .rlim_max = sb->data_limit };

		if (setrlimit(RLIMIT_DATA, &rl))
			_exit(BWE_SANDBOX_EXIT_RLIMIT);
	}

	drop_cap_sets();
	if (setgroups(0, NULL) || setresgid(sb->gid, sb->gid, sb->gid) ||
	    setresuid(sb->uid, sb->uid, sb->uid))
		_exit(BWE_SANDBOX_EXIT_USER);
	clear_caps();
	if (setuid(0) == 0 || setgid(0) == 0)
		_exit(BWE_SANDBOX_EXIT_USER);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		_exit(BWE_SANDBOX_EXIT_NNP);
	execve(sb->path, sb->argv, envp);
	_exit(BWE_SANDBOX_EXIT_EXEC);
}

static char **make_env(void)
{
	char **envp = calloc(ENV_MAX + 1, sizeof(char *));
	size_t i, n = 0;

	if (!envp)
		return NULL;
	for (i = 0; env_keep[i] && n < ENV_MAX; i++) {
		const char *v = getenv(env_keep[i]);

		if (v && asprintf(&envp[n], "%s=%s", env_keep[i], v) > 0)
			n++;
	}
	return envp;
}

int bwe_sandbox_start(struct bwe_sandbox *sb)
{
	char **envp;
	int sv[2], err;
	pid_t pid;

	if (sb->pid > 0)
		return -EBUSY;
	envp = make_env();
	if (!envp)
		return -ENOMEM;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv)) {
		err = -errno;
		free_argv(envp);
		return err;
	}
	pid = fork();
	if (pid < 0) {
		err = -errno;
		close(sv[0]);
		close(sv[1]);
		free_argv(envp);
		return err;
	}
	if (!pid)
		child_exec(sb, sv[1], envp);
	free_argv(envp);
	close(sv[1]);
	if (fcntl(sv[0], F_SETFL, O_NONBLOCK)) {
		err = -errno;
		close(sv[0]);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return err;
	}
	sb->fd = sv[0];
	sb->pid = pid;
	sb->started_ms = bwe_sandbox_now_ms();
	sb->starts++;
	sb->kill_why[0] = '\0';
	return 0;
}

void bwe_sandbox_kill(struct bwe_sandbox *sb, const char *why)
{
	if (sb->pid <= 0)
		return;
	kill(sb->pid, SIGKILL);
	if (sb->fd >= 0) {
		close(sb->fd);
		sb->fd = -1;
	}
	if (why && !sb->kill_why[0])
		snprintf(sb->kill_why, sizeof(sb->kill_why), "%s", why);
}

static const char *exit_names[] = {
	[BWE_SANDBOX_EXIT_FDS - BWE_SANDBOX_EXIT_FDS] = "fd setup failed",
	[BWE_SANDBOX_EXIT_CAPS - BWE_SANDBOX_EXIT_FDS] = "capability drop failed",
	[BWE_SANDBOX_EXIT_USER - BWE_SANDBOX_EXIT_FDS] = "user switch failed",
	[BWE_SANDBOX_EXIT_NNP - BWE_SANDBOX_EXIT_FDS] = "PR_SET_NO_NEW_PRIVS failed",
	[BWE_SANDBOX_EXIT_EXEC - BWE_SANDBOX_EXIT_FDS] = "exec failed",
	[BWE_SANDBOX_EXIT_SECCOMP - BWE_SANDBOX_EXIT_FDS] = "seccomp setup failed",
	[BWE_SANDBOX_EXIT_RLIMIT - BWE_SANDBOX_EXIT_FDS] = "memory limit (RLIMIT_DATA) failed",
	[BWE_SANDBOX_EXIT_NOMEM - BWE_SANDBOX_EXIT_FDS] = "out of memory under its limit",
};

void bwe_sandbox_describe(int st, char *why, size_t len)
{
	if (WIFEXITED(st)) {
		int code = WEXITSTATUS(st);

		if (code >= BWE_SANDBOX_EXIT_FDS && code <= BWE_SANDBOX_EXIT_NOMEM)
			snprintf(why, len, "exit code %d (%s)", code,
				 exit_names[code - BWE_SANDBOX_EXIT_FDS]);
		else
			snprintf(why, len, "exit code %d", code);
	} else if (WIFSIGNALED(st)) {
		int sig = WTERMSIG(st);

		snprintf(why, len, "killed by signal %d (%s)%s", sig,
			 sig == SIGSYS	     ? "seccomp violation"
			 : sigabbrev_np(sig) ? sigabbrev_np(sig)
					     : "?",
			 WCOREDUMP(st) ? ", core dumped" : "");
	} else {
		snprintf(why, len, "wait status 0x%x", (unsigned int)st);
	}
}

int bwe_sandbox_reap(struct bwe_sandbox *sb, char *why, size_t len)
{
	__u64 now, delay;
	int st;
	pid_t r;

	if (sb->pid <= 0)
		return 0;
	r = waitpid(sb->pid, &st, WNOHANG);
	if (r < 0)
		return -errno;
	if (!r)
		return 0;
	if (sb->kill_why[0])
		snprintf(why, len, "%s", sb->kill_why);
	else
		bwe_sandbox_describe(st, why, len);
	if (sb->fd >= 0) {
		close(sb->fd);
		sb->fd = -1;
	}
	sb->pid = 0;
	now = bwe_sandbox_now_ms();
	if (now - sb->started_ms >= sb->backoff_max_ms)
		sb->failures = 0; /* it had been stable */
	sb->failures++;
	delay = (__u64)sb->backoff_min_ms << (sb->failures < 20 ? sb->failures - 1 : 19);
	if (delay > sb->backoff_max_ms)
		delay = sb->backoff_max_ms;
	sb->restart_at_ms = now + delay;
	return 1;
}

/* ---- child side: seccomp ------------------------------------------------------ */

static void sigsys_trap(int sig, siginfo_t *si, void *uc_)
{
	char msg[64];
	int n;

	(void)sig;
	n = snprintf(msg, sizeof(msg), "seccomp: syscall %d denied\n", si->si_syscall);
	if (n > 0 && write(STDERR_FILENO, msg, (size_t)n) < 0)
		n = 0;
#ifdef __x86_64__
	((ucontext_t *)uc_)->uc_mcontext.gregs[REG_RAX] = -ENOSYS;
#else
	(void)uc_;
#endif
}

static int add_rule(scmp_filter_ctx ctx, __u32 action, const char *name, unsigned int n,
		    const struct scmp_arg_cmp *cmp)
{
	int nr = seccomp_syscall_resolve_name(name);

	if (nr == __NR_SCMP_ERROR)
		return 0; /* not on this architecture */
	return seccomp_rule_add_array(ctx, action, nr, n, cmp);
}

int bwe_sandbox_enter(const struct bwe_seccomp_profile *prof)
{
	const char *mode = getenv("BWE_SECCOMP");
	__u32 deflt = SCMP_ACT_KILL_PROCESS;
	scmp_filter_ctx ctx;
	size_t i;
	int err = 0;

	if (mode && !strcmp(mode, "log")) {
		deflt = SCMP_ACT_LOG;
	} else if (mode && !strcmp(mode, "errno")) {
		deflt = SCMP_ACT_ERRNO(ENOSYS);
	} else if (mode && !strcmp(mode, "trap")) {
		struct sigaction sa = { .sa_sigaction = sigsys_trap, .sa_flags = SA_SIGINFO };

		sigaction(SIGSYS, &sa, NULL);
		deflt = SCMP_ACT_TRAP;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) || prctl(PR_SET_DUMPABLE, 0, 0, 0, 0))
		return -errno;
	ctx = seccomp_init(deflt);
	if (!ctx)
		return -ENOMEM;
	for (i = 0; prof->allow[i] && !err; i++)
		err = add_rule(ctx, SCMP_ACT_ALLOW, prof->allow[i], 0, NULL);
	if (!err && (prof->flags & BWE_SC_OPEN_RDONLY)) {
		const __u64 mask = O_ACCMODE | O_CREAT | O_TRUNC;
		struct scmp_arg_cmp at = SCMP_A2(SCMP_CMP_MASKED_EQ, mask, O_RDONLY);
		struct scmp_arg_cmp op = SCMP_A1(SCMP_CMP_MASKED_EQ, mask, O_RDONLY);

		err = add_rule(ctx, SCMP_ACT_ALLOW, "openat", 1, &at);
		if (!err)
			err = add_rule(ctx, SCMP_ACT_ALLOW, "open", 1, &op);
		/* openat2's flags sit in a struct the filter cannot read */
		if (!err)
			err = add_rule(ctx, SCMP_ACT_ERRNO(ENOSYS), "openat2", 0, NULL);
	}
	if (!err && (prof->flags & BWE_SC_SOCKET_NET)) {
		static const int fams[] = { AF_INET, AF_INET6, AF_UNIX };

		for (i = 0; i < sizeof(fams) / sizeof(fams[0]) && !err; i++) {
			struct scmp_arg_cmp c = SCMP_A0(SCMP_CMP_EQ, (__u64)fams[i]);

			err = add_rule(ctx, SCMP_ACT_ALLOW, "socket", 1, &c);
		}
	}
	if (!err && (prof->flags & BWE_SC_THREADS)) {
		struct scmp_arg_cmp c = SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD);

		err = add_rule(ctx, SCMP_ACT_ALLOW, "clone", 1, &c);
		if (!err)
			err = add_rule(ctx, SCMP_ACT_ERRNO(ENOSYS), "clone3", 0, NULL);
	}
	if (!err && (prof->flags & BWE_SC_SIGNAL_SELF)) {
		struct scmp_arg_cmp c = SCMP_A0(SCMP_CMP_EQ, (__u64)getpid());

		err = add_rule(ctx, SCMP_ACT_ALLOW, "tgkill", 1, &c);
	}
	if (!err)
		err = seccomp_load(ctx);
	seccomp_release(ctx);
	return err;
}

int bwe_sandbox_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}
